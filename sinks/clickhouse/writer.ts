// Batched, idempotent inserts into one ClickHouse table. Consumes mapped rows (rows.ts);
// sends them as INSERTs, one batch at a time, in the order batches are cut; write() waits
// while maxBufferedRows are held (backpressure). Retryable errors are retried with capped
// exponential backoff and jitter; when retries run out, one error is logged, every later
// write()/flush() rejects with it, and onBatch never reports that batch's positions, so
// the caller commits only source offsets that ClickHouse acknowledged.
//
// Idempotence: ClickHouse insert deduplication tokens, derived from the rows. A batch's
// token hashes the table and each row's identity (source and offset for events and
// token_events, key and version for token_lifecycles and findings, rows.ts) and travels in
// the INSERT's SETTINGS clause (the SQL text, never clickhouse_settings: chdb pitfall,
// ARCHITECTURE.md) with deduplicate_blocks_in_dependent_materialized_views; every table
// and view target keeps non_replicated_deduplication_window (sql/). So a batch sent again
// (a retry after an ambiguous failure, a replay of the same rows) is dropped by ClickHouse
// in the table and in every materialized view behind it, while it is among the table's
// last 10,000 inserts (the window in sql/).
// Replays form the same batches because a source's batches cover fixed offset ranges of
// maxBatchRows offsets each, whatever the interleaving of sources or the resume point.
// Only early cuts, by the maxBatchDelayMs timer (0 turns it off), by flush(), or when
// open batches of many sources fill the buffer, can be re-formed differently after a
// crash; their rows are then written twice (issue 5: a batch journal would close this).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { drainStream, type ClickHouseClient } from '@clickhouse/client';
import { TokenwatchError } from '../../common/errors.js';
import { loadConfig } from '../../common/config.js';
import type { ComponentContext, Lifecycle } from '../../common/component.js';
import type { TableSpec } from './rows.js';

export const writerConfigSchema = z
  .object({
    /** Rows that make a full batch, sent at once. Default 10000. */
    maxBatchRows: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Longest a buffered row waits before its partial batch is sent, ms; 0 cuts batches by rows and flush() only. Default 1000. */
    maxBatchDelayMs: z.number().int().min(0).default(1000),
    /** Rows held (open, queued, in flight) before write() waits; at least maxBatchRows, and sources x maxBatchRows keeps cuts exact. Default 50000. */
    maxBufferedRows: z.number().int().min(1).default(50_000),
    /** Attempts per batch, the first included, on retryable errors. Default 6. */
    maxAttempts: z.number().int().min(1).max(100).default(6),
    /** Delay before the first retry, ms; doubles per attempt, half of it random. Default 200. */
    retryBaseMs: z.number().int().min(0).default(200),
    /** Cap on one retry delay, ms. Default 10000. */
    retryMaxMs: z.number().int().min(0).default(10_000),
  })
  .strict()
  .refine((c) => c.maxBufferedRows >= c.maxBatchRows, { message: 'must be at least maxBatchRows', path: ['maxBufferedRows'] });
export type WriterConfig = z.output<typeof writerConfigSchema>;

/** The configuration used when none is given. */
export const writerDefaults: Readonly<WriterConfig> = Object.freeze(writerConfigSchema.parse({}));

/** Sends one batch under its deduplication token; the writer's seam for tests and benchmarks. */
export type InsertFn = (table: string, rows: readonly object[], token: string) => Promise<void>;

/** A batch ClickHouse acknowledged. */
export interface BatchReport {
  table: string;
  rows: number;
  token: string;
  attempts: number;
  /** Highest offset per source in the batch; every earlier row of the source landed too (batches land in order). Commit it once all rows of that offset were written. */
  positions: ReadonlyMap<string, number>;
}

/** What a writer needs besides its config. */
export interface WriterDeps<Row> {
  spec: TableSpec<Row>;
  insert: InsertFn;
  /** Called after each acknowledged batch, in order; never for a failed one. */
  onBatch?: (batch: BatchReport) => void;
}

/** The InsertFn of a @clickhouse/client client: JSONCompactEachRow, settings in the SQL text. */
export function clickhouseInsert(client: ClickHouseClient): InsertFn {
  return async (table, rows, token) => {
    if (rows.length === 0) return;
    // Positional rows, under the column list of the first: every row of a table comes from one
    // object literal, so its values are in the same order. The engine reads them faster than
    // named ones (no key to match per value), and the batch stringifies faster.
    const columns = Object.keys(rows[0]!);
    // Kept as text: the embedded engine takes the body as a string, and decoding a Buffer back
    // would copy every batch once more; an HTTP request writes either.
    // One stringify of the batch, its outer brackets cut: the engine takes a comma between rows,
    // and one native call costs less than one per row and the join (3.3 against 4.8 µs a row).
    const body = JSON.stringify(rows.map(Object.values)).slice(1, -1) + '\n';
    // async_insert off: an async insert is deduplicated by its own rules, not by this token
    // (and chdb turns it on by default).
    const result = await client.exec({
      query:
        `INSERT INTO ${table} (${columns.join(', ')}) SETTINGS insert_deduplication_token = '${token}', insert_deduplicate = 1, ` +
        'deduplicate_blocks_in_dependent_materialized_views = 1, async_insert = 0 FORMAT JSONCompactEachRow',
      values: Readable.from([body]),
    });
    await drainStream(result.stream);
  };
}

// ClickHouse error codes worth a retry: overload, timeouts, network, a table briefly read-only.
const TRANSIENT_CODES = new Set([
  '3', // UNEXPECTED_END_OF_FILE
  '32', // ATTEMPT_TO_READ_AFTER_EOF
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '241', // MEMORY_LIMIT_EXCEEDED
  '242', // TABLE_IS_READ_ONLY
  '252', // TOO_MANY_PARTS
  '285', // TOO_FEW_LIVE_REPLICAS
  '319', // UNKNOWN_STATUS_OF_INSERT
  '425', // SYSTEM_ERROR
  '439', // CANNOT_SCHEDULE_TASK
  '999', // KEEPER_EXCEPTION
]);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Whether another attempt may succeed: transient server and network errors, or a TokenwatchError that says so. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TokenwatchError) return err.retryable;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || TRANSIENT_NET.has(code))) return true;
  // @clickhouse/client reports its request timeout and a dropped keep-alive socket by message only.
  return /^Timeout error|socket hang up/i.test(err.message);
}

interface OpenBatch<Row> {
  rows: Row[];
  /** offset / maxBatchRows of its rows (tables without origins: -1, cut by count). */
  bucket: number;
  lastOffset: number;
}

/** Batches rows into one table; see the file header for its guarantees. */
export class ClickHouseWriter<Row extends object> implements Lifecycle {
  /** The batch being filled, per source ('' for tables without origins). */
  private open = new Map<string, OpenBatch<Row>>();
  /** Cut batches waiting to be sent, in the order they were cut. */
  private queue: Row[][] = [];
  private sending = false;
  /** Rows open, queued or in flight: what backpressure bounds. */
  private held = 0;
  private accepted = 0;
  private written = 0;
  private cut = 0;
  private acknowledged = 0;
  private timer: NodeJS.Timeout | null = null;
  private failure: TokenwatchError | null = null;
  private stopped = false;
  private spaceWaiters: Array<() => void> = [];
  private flushWaiters: Array<{ until: number; resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly counters;

  constructor(
    private readonly config: WriterConfig,
    private readonly ctx: ComponentContext,
    private readonly deps: WriterDeps<Row>,
  ) {
    const table = deps.spec.table;
    const m = ctx.metrics;
    this.counters = {
      rows: m.counter('tokenwatch_clickhouse_writer_rows_total', { table }),
      batches: m.counter('tokenwatch_clickhouse_writer_batches_total', { table, outcome: 'ok' }),
      failed: m.counter('tokenwatch_clickhouse_writer_batches_total', { table, outcome: 'failed' }),
      retries: m.counter('tokenwatch_clickhouse_writer_retries_total', { table }),
    };
  }

  /** The table this writer fills. */
  get table(): string {
    return this.deps.spec.table;
  }

  /** The error that stopped the writer, or null. */
  get failed(): TokenwatchError | null {
    return this.failure;
  }

  async start(): Promise<void> {
    this.ctx.logger.info({ table: this.table, maxBatchRows: this.config.maxBatchRows, maxBatchDelayMs: this.config.maxBatchDelayMs }, 'clickhouse writer started');
  }

  /** Buffers `rows`; resolves once they are accepted, waiting while the buffer is full. Rejects after a failed batch. */
  async write(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    while (this.failure === null && !this.stopped && this.held >= this.config.maxBufferedRows) {
      // Open batches of many sources can fill the buffer with none complete: then the
      // fullest goes early rather than everyone waiting forever.
      if (this.queue.length === 0 && !this.sending) this.cutFullest();
      else await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      this.pump();
    }
    if (this.failure !== null) throw this.failure;
    if (this.stopped) throw new TokenwatchError('TW_ERR_CLICKHOUSE_WRITER_STOPPED', `write to ${this.table} after stop()`);
    for (const row of rows) this.add(row);
    this.held += rows.length;
    this.accepted += rows.length;
    if (this.timer === null && this.open.size > 0 && this.config.maxBatchDelayMs > 0) this.armTimer();
    this.pump();
  }

  /** Sends everything accepted so far; resolves when ClickHouse acknowledged it, rejects if a batch failed. */
  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.cutAll();
    const until = this.cut;
    if (this.acknowledged >= until) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.flushWaiters.push({ until, resolve, reject }));
    this.pump();
    return done;
  }

  /** Flushes and stops; safe before start() and twice. Throws when a batch failed or `deadlineMs` passed first. */
  async stop(deadlineMs = 30_000): Promise<void> {
    if (this.stopped) {
      if (this.failure !== null) throw this.failure;
      return;
    }
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timeout = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    try {
      const outcome = await Promise.race([this.flush().then(() => 'flushed' as const), deadline]);
      if (outcome === 'deadline') {
        this.fail(
          new TokenwatchError('TW_ERR_CLICKHOUSE_STOP_DEADLINE', `stop() of the ${this.table} writer gave up after ${deadlineMs} ms with ${this.accepted - this.written} rows not acknowledged; their offsets must not be committed`, {
            retryable: true,
          }),
        );
        throw this.failure;
      }
    } finally {
      clearTimeout(timeout);
      this.stopped = true;
      this.clearTimer();
      this.wakeWriters();
      this.ctx.logger.info({ table: this.table, rows: this.written, failed: this.failure !== null }, 'clickhouse writer stopped');
    }
  }

  // Batches of a source cover aligned offset ranges [k * maxBatchRows, (k + 1) * maxBatchRows),
  // so their cuts depend on the offsets alone: not on how sources interleave, on skipped
  // (dead-lettered) lines, or on where a replay resumes. Several rows of one offset (a log
  // line holding an array of events) never straddle a cut by count.
  private add(row: Row): void {
    const origin = this.deps.spec.origin?.(row);
    const key = origin?.source ?? '';
    const offset = origin?.offset ?? -1;
    const bucket = origin === undefined ? -1 : Math.floor(offset / this.config.maxBatchRows);
    let batch = this.open.get(key);
    if (batch !== undefined && (batch.bucket !== bucket || (batch.rows.length >= this.config.maxBatchRows && batch.lastOffset !== offset))) {
      this.close(key, batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { rows: [], bucket, lastOffset: offset };
      this.open.set(key, batch);
    }
    batch.rows.push(row);
    batch.lastOffset = offset;
    if (origin === undefined && batch.rows.length >= this.config.maxBatchRows) this.close(key, batch);
  }

  private close(key: string, batch: OpenBatch<Row>): void {
    this.open.delete(key);
    this.queue.push(batch.rows);
    this.cut++;
  }

  private cutAll(): void {
    for (const [key, batch] of this.open) this.close(key, batch);
  }

  private cutFullest(): void {
    let fullest: [string, OpenBatch<Row>] | null = null;
    for (const entry of this.open) if (fullest === null || entry[1].rows.length > fullest[1].rows.length) fullest = entry;
    if (fullest !== null) this.close(...fullest);
  }

  private pump(): void {
    if (this.sending || this.failure !== null) return;
    const batch = this.queue.shift();
    if (batch === undefined) return;
    this.sending = true;
    void this.send(batch)
      .catch((err: unknown) =>
        this.fail(new TokenwatchError('TW_ERR_CLICKHOUSE_WRITER_CALLBACK', `onBatch of the ${this.table} writer threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
      )
      .finally(() => {
        this.sending = false;
        this.held -= batch.length;
        this.wakeWriters();
        this.pump();
      });
  }

  private async send(batch: Row[]): Promise<void> {
    const token = this.tokenOf(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.insert(this.table, batch, token);
      } catch (err) {
        if (this.failure !== null) return;
        if (!isRetryable(err) || attempt >= this.config.maxAttempts) {
          const message = err instanceof Error ? err.message : String(err);
          this.counters.failed.value++;
          this.fail(
            new TokenwatchError(
              'TW_ERR_CLICKHOUSE_INSERT_FAILED',
              `insert of ${batch.length} rows into ${this.table} failed ${attempt} time(s), ${isRetryable(err) ? 'retries exhausted' : 'not retryable'}: ${message}; the batch is not written and its offsets must not be committed`,
              { retryable: isRetryable(err), cause: err },
            ),
          );
          return;
        }
        this.counters.retries.value++;
        await sleep(this.backoff(attempt));
        if (this.failure !== null) return;
        continue;
      }
      this.acknowledge(batch, token, attempt);
      return;
    }
  }

  private acknowledge(batch: Row[], token: string, attempts: number): void {
    this.written += batch.length;
    this.acknowledged++;
    this.counters.rows.value += batch.length;
    this.counters.batches.value++;
    const positions = new Map<string, number>();
    const origin = this.deps.spec.origin;
    if (origin !== undefined) {
      for (const row of batch) {
        const o = origin(row);
        if (!(positions.get(o.source)! >= o.offset)) positions.set(o.source, o.offset);
      }
    }
    this.deps.onBatch?.({ table: this.table, rows: batch.length, token, attempts, positions });
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (w.until > this.acknowledged) return true;
      w.resolve();
      return false;
    });
  }

  // Logged once here; every waiting and later caller gets the same error object.
  private fail(err: TokenwatchError): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.ctx.logger.error({ table: this.table, code: err.code, unacknowledgedRows: this.accepted - this.written, err: err.cause }, err.message);
    this.open.clear();
    this.queue = [];
    this.clearTimer();
    for (const w of this.flushWaiters) w.reject(err);
    this.flushWaiters = [];
    this.wakeWriters();
  }

  private tokenOf(batch: Row[]): string {
    // One update of the joined identities: the same digest as one update per row, at one native call.
    const identity = this.deps.spec.identity;
    const hash = createHash('sha256').update(this.table).update('\n' + batch.map(identity).join('\n'));
    return `tw-${hash.digest('hex').slice(0, 40)}`;
  }

  // Equal jitter: half the capped exponential delay is fixed, so delays still grow, the
  // other half random, so writers that failed together do not retry together.
  private backoff(attempt: number): number {
    const capped = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** (attempt - 1));
    return capped / 2 + Math.random() * (capped / 2);
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.cutAll();
      this.pump();
    }, this.config.maxBatchDelayMs);
    // A forgotten writer must not keep the process alive; stop() flushes explicitly.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private wakeWriters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** A writer for `deps.spec.table`, its config validated (a bad field is named). */
export function createClickHouseWriter<Row extends object>(config: z.input<typeof writerConfigSchema>, ctx: ComponentContext, deps: WriterDeps<Row>): ClickHouseWriter<Row> {
  return new ClickHouseWriter(loadConfig(writerConfigSchema, config, `clickhouse.writer.${deps.spec.table}`), ctx, deps);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
