// The writer's batching, backpressure, retry and failure contract, against an injected
// insert function (no ClickHouse): store.test.ts proves the same writer against chdb.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../common/logger.js';
import { Metrics } from '../../common/metrics.js';
import { systemClock } from '../../common/clock.js';
import type { ComponentContext } from '../../common/component.js';
import { createClickHouseWriter, isRetryable, type BatchReport, type InsertFn } from './writer.js';
import type { TableSpec } from './rows.js';

interface TestRow {
  source: string;
  offset: number;
}

const SPEC: TableSpec<TestRow> = {
  table: 'test_rows',
  identity: (r) => `${r.source}\u0000${r.offset}`,
  origin: (r) => ({ source: r.source, offset: r.offset }),
};

function context(): { ctx: ComponentContext; errors: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination: destination as never });
  return {
    ctx: { logger, metrics: new Metrics(), clock: systemClock },
    errors: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 50),
  };
}

const rows = (n: number, source = 'a.log', from = 0): TestRow[] => Array.from({ length: n }, (_, i) => ({ source, offset: from + i }));

/** An insert that records each call and answers with `outcome(call)`: nothing, or an error to throw. */
function recorder(outcome: (call: number) => Error | undefined = () => undefined): { insert: InsertFn; calls: Array<{ rows: number; token: string }> } {
  const calls: Array<{ rows: number; token: string }> = [];
  return {
    calls,
    insert: async (_table, batch, token) => {
      calls.push({ rows: batch.length, token });
      const err = outcome(calls.length);
      if (err) throw err;
    },
  };
}

const chError = (code: string, message: string): Error => Object.assign(new Error(message), { code });
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('clickhouse writer', () => {
  it('sends full batches at maxBatchRows and the remainder on flush', async () => {
    const { ctx } = context();
    const { insert, calls } = recorder();
    const w = createClickHouseWriter({ maxBatchRows: 100, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert });
    await w.write(rows(250));
    await tick();
    expect(calls.map((c) => c.rows)).toEqual([100, 100]);
    await w.flush();
    expect(calls.map((c) => c.rows)).toEqual([100, 100, 50]);
    await w.stop();
  });

  it('sends a partial batch once its oldest row has waited maxBatchDelayMs', async () => {
    const { ctx } = context();
    const { insert, calls } = recorder();
    const w = createClickHouseWriter({ maxBatchRows: 100, maxBatchDelayMs: 20 }, ctx, { spec: SPEC, insert });
    await w.write(rows(5));
    expect(calls).toEqual([]);
    await tick(80);
    expect(calls.map((c) => c.rows)).toEqual([5]);
    await w.stop();
  });

  it('holds write() while the buffer is full and releases it as a batch lands', async () => {
    const { ctx } = context();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = createClickHouseWriter({ maxBatchRows: 10, maxBufferedRows: 20, maxBatchDelayMs: 0 }, ctx, {
      spec: SPEC,
      insert: () => gate,
    });
    await w.write(rows(20));
    let accepted = false;
    const pending = w.write(rows(1, 'a.log', 20)).then(() => (accepted = true));
    await tick(20);
    expect(accepted).toBe(false);
    release();
    await pending;
    expect(accepted).toBe(true);
    await w.stop();
  });

  it('retries a transient error under the same token and reports the batch once', async () => {
    const { ctx } = context();
    const { insert, calls } = recorder((call) => (call <= 2 ? chError('252', 'Too many parts') : undefined));
    const reports: BatchReport[] = [];
    const w = createClickHouseWriter({ maxBatchRows: 10, maxBatchDelayMs: 0, retryBaseMs: 5, retryMaxMs: 20 }, ctx, {
      spec: SPEC,
      insert,
      onBatch: (b) => reports.push(b),
    });
    await w.write(rows(10));
    await w.flush();
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.token)).size).toBe(1);
    expect(reports).toEqual([{ table: 'test_rows', rows: 10, token: calls[0]!.token, attempts: 3, positions: new Map([['a.log', 9]]) }]);
    expect(ctx.metrics.get('tokenwatch_clickhouse_writer_retries_total', { table: 'test_rows' })).toBe(2);
    await w.stop();
  });

  it('fails at once on an error a retry cannot fix, logs it once and rejects every later write', async () => {
    const { ctx, errors } = context();
    const { insert, calls } = recorder(() => chError('27', 'Cannot parse input: expected "," before: ...'));
    const reports: BatchReport[] = [];
    const w = createClickHouseWriter({ maxBatchRows: 10, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert, onBatch: (b) => reports.push(b) });
    await w.write(rows(10));
    await expect(w.flush()).rejects.toMatchObject({ code: 'TW_ERR_CLICKHOUSE_INSERT_FAILED', retryable: false });
    await expect(w.write(rows(1, 'a.log', 10))).rejects.toBe(w.failed);
    await expect(w.stop()).rejects.toBe(w.failed);
    expect(calls).toHaveLength(1);
    expect(reports).toEqual([]);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]!.msg).toMatch(/insert of 10 rows into test_rows failed 1 time\(s\), not retryable: Cannot parse input.*offsets must not be committed/);
  });

  it('gives up after maxAttempts of a transient error and says how often it tried', async () => {
    const { ctx, errors } = context();
    const { insert, calls } = recorder(() => chError('159', 'Timeout exceeded'));
    const w = createClickHouseWriter({ maxBatchRows: 10, maxBatchDelayMs: 0, maxAttempts: 3, retryBaseMs: 1, retryMaxMs: 2 }, ctx, { spec: SPEC, insert });
    await w.write(rows(10));
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TW_ERR_CLICKHOUSE_INSERT_FAILED', retryable: true });
    expect((err as Error).message).toContain('failed 3 time(s), retries exhausted');
    expect(calls).toHaveLength(3);
    expect(errors()).toHaveLength(1);
    expect(ctx.metrics.get('tokenwatch_clickhouse_writer_batches_total', { table: 'test_rows', outcome: 'failed' })).toBe(1);
  });

  it('derives the batch token from the rows: the same rows give the same token, other offsets another', async () => {
    const tokens: string[] = [];
    for (const from of [0, 0, 1]) {
      const { ctx } = context();
      const { insert, calls } = recorder();
      const w = createClickHouseWriter({ maxBatchRows: 50, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert });
      await w.write(rows(50, 'a.log', from));
      await w.stop();
      tokens.push(calls[0]!.token);
    }
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens[0]).toMatch(/^tw-[0-9a-f]{40}$/);
  });

  it('batches each source apart and reports the highest offset of each batch', async () => {
    const { ctx } = context();
    const reports: BatchReport[] = [];
    const w = createClickHouseWriter({ maxBatchRows: 100, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert: recorder().insert, onBatch: (b) => reports.push(b) });
    await w.write([...rows(3, 'a.log', 10), ...rows(2, 'b.log', 4), { source: 'a.log', offset: 7 }]);
    await w.stop();
    expect(reports.map((r) => [r.rows, r.positions])).toEqual([
      [4, new Map([['a.log', 12]])],
      [2, new Map([['b.log', 5]])],
    ]);
  });

  it('cuts the same batches however the sources interleave and wherever a replay resumes', async () => {
    const run = async (input: TestRow[]): Promise<string[]> => {
      const { ctx } = context();
      const { insert, calls } = recorder();
      const w = createClickHouseWriter({ maxBatchRows: 50, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert });
      await w.write(input);
      await w.stop();
      return calls.map((c) => c.token).sort();
    };
    const a = rows(180, 'a.log');
    const b = rows(120, 'b.log');
    const sequential = await run([...a, ...b]);
    const interleaved = await run(a.flatMap((row, i) => (b[i] ? [row, b[i]!] : [row])));
    expect(interleaved).toEqual(sequential);
    expect(sequential).toHaveLength(4 + 3);
    // A replay that resumes after the first two committed batches of a.log re-forms the rest.
    const resumed = await run(a.slice(100));
    expect(sequential).toEqual(expect.arrayContaining(resumed));
  });

  it('keeps the rows of one offset in one batch when a count cut falls among them', async () => {
    const { ctx } = context();
    const reports: BatchReport[] = [];
    const w = createClickHouseWriter({ maxBatchRows: 3, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert: recorder().insert, onBatch: (b) => reports.push(b) });
    // One log line (offset 2) holding three events, as a batched http-log line does.
    await w.write([0, 1, 2, 2, 2, 3].map((offset) => ({ source: 'a.log', offset })));
    await w.stop();
    expect(reports.map((r) => [r.rows, r.positions.get('a.log')])).toEqual([
      [5, 2],
      [1, 3],
    ]);
  });

  it('sends the fullest open batch early when open batches of many sources fill the buffer', async () => {
    const { ctx } = context();
    const { insert, calls } = recorder();
    const w = createClickHouseWriter({ maxBatchRows: 10, maxBufferedRows: 10, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert });
    await w.write([...rows(6, 'a.log'), ...rows(4, 'b.log')]);
    await w.write(rows(1, 'c.log'));
    expect(calls.map((c) => c.rows)).toEqual([6]);
    await w.stop();
    expect(calls.map((c) => c.rows).sort()).toEqual([1, 4, 6]);
  });

  it('is safe to stop before start and twice, and stop flushes what it holds', async () => {
    const { ctx } = context();
    const { insert, calls } = recorder();
    const idle = createClickHouseWriter({}, ctx, { spec: SPEC, insert });
    await idle.stop();
    await idle.stop();
    const w = createClickHouseWriter({ maxBatchRows: 100, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert });
    await w.start();
    await w.write(rows(7));
    await w.stop();
    await w.stop();
    expect(calls.map((c) => c.rows)).toEqual([7]);
    await expect(w.write(rows(1))).rejects.toMatchObject({ code: 'TW_ERR_CLICKHOUSE_WRITER_STOPPED' });
  });

  it('gives up at the stop deadline and names the rows not acknowledged', async () => {
    const { ctx } = context();
    const w = createClickHouseWriter({ maxBatchRows: 100, maxBatchDelayMs: 0 }, ctx, { spec: SPEC, insert: () => new Promise<void>(() => {}) });
    await w.write(rows(4));
    await expect(w.stop(30)).rejects.toMatchObject({ code: 'TW_ERR_CLICKHOUSE_STOP_DEADLINE', message: expect.stringContaining('4 rows not acknowledged') });
  });

  it('refuses a buffer smaller than one batch, naming the field', () => {
    const { ctx } = context();
    expect(() => createClickHouseWriter({ maxBatchRows: 100, maxBufferedRows: 10 }, ctx, { spec: SPEC, insert: recorder().insert })).toThrow(
      /clickhouse\.writer\.test_rows\.maxBufferedRows: must be at least maxBatchRows/,
    );
  });

  it('retries network and overload errors but not bad data or bad SQL', () => {
    expect(isRetryable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(new Error('Timeout error.'))).toBe(true);
    expect(isRetryable(chError('241', 'Memory limit exceeded'))).toBe(true);
    expect(isRetryable(chError('62', 'Syntax error'))).toBe(false);
    expect(isRetryable(chError('60', 'Unknown table'))).toBe(false);
    expect(isRetryable('not an error')).toBe(false);
  });
});
