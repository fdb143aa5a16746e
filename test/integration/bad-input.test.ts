// Every kind of bad input the ingest issue names, fed through the real CLI between good
// records: each gets its DLQ reason, the good records around it all come through, and
// nothing crashes.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { makeJwt, syntheticRequest, TEST_FP_KEY } from '../helpers/ingest.js';
import { kongRenderer } from '../../ingest/generator/formats/kong.js';
import { nginxRenderer } from '../../ingest/generator/formats/nginx.js';
import type { AccessEvent } from '../../ingest/model.js';
import type { DlqRecord } from '../../ingest/dlq.js';

const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY };
let dir: string;

const good = (n: number): string =>
  kongRenderer.render(syntheticRequest({ requestId: `good-${n}`, ts: Date.UTC(2026, 10, 25, 10, 0, n) }), 'json');

const canonical = (overrides: Record<string, unknown>): string =>
  JSON.stringify({
    ts: Date.UTC(2026, 10, 25, 10, 0, 0), gateway: 'kong', requestId: 'canon-1', method: 'GET', path: '/a', route: null, host: null,
    status: 200, latencyMs: 3, clientIp: '203.0.113.1', userAgent: 'curl/8', tokenFp: null, tokenKind: null, claims: null, authError: null,
    deployment: { service: null, version: null, track: null }, consumerId: null, ...overrides,
  });

function run(lines: Array<string | Buffer>): { events: AccessEvent[]; dlq: DlqRecord[]; stderr: string; code: number | null } {
  const input = join(dir, `in-${Math.random().toString(36).slice(2)}.log`);
  const dlqPath = `${input}.dlq`;
  writeFileSync(input, Buffer.concat(lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]))));
  const r = runCli(['parse', '--logs', input, '--dlq', dlqPath], { env });
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AccessEvent);
  const dlq = existsSync(dlqPath) ? readFileSync(dlqPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as DlqRecord) : [];
  return { events, dlq, stderr: r.stderr, code: r.code };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bad-'));
});

describe('bad input', () => {
  it('dead-letters every bad kind with its reason and lets the good records around them through', () => {
    const bigJwt = makeJwt({ sub: 'x', pad: 'p'.repeat(64 * 1024) });
    const noneJwt = makeJwt({ jti: 'unsigned-1', sub: 'mallory', exp: 1764066000 }, 'none');
    const goodLine = good(0);
    const utf8Bad = Buffer.from(good(99).replace('Firefox', 'Fire\u0000fox'));
    const invalidUtf8 = Buffer.concat([Buffer.from(goodLine.slice(0, 40)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(goodLine.slice(40))]);
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const withNewline = good(98).replace('/api/orders/42', '/api/orders/\n42');

    const { events, dlq, code } = run([
      good(1),
      goodLine.slice(0, Math.floor(goodLine.length / 2)), // truncated JSON
      good(2),
      invalidUtf8, // invalid UTF-8
      good(3),
      canonical({ status: 'two hundred' }), // wrong type
      canonical({ ts: undefined }), // missing field
      good(4),
      '{"request":' + 'x'.repeat(10 * 1024 * 1024) + '}', // a 10 MB line
      good(5),
      deep, // deeply nested JSON
      good(6),
      kongRenderer.render(syntheticRequest({ requestId: 'alg-none', rawToken: noneJwt }), 'json'), // alg none: read, flagged
      kongRenderer.render(syntheticRequest({ requestId: 'big-jwt', rawToken: bigJwt }), 'json'), // a 64 KB JWT
      good(7),
      good(8).replace('Firefox/132.0', 'Firefox\\u0007\\u001b[31m\\r\\nX-Injected: 1'), // control characters in a field
      withNewline, // a raw newline injected into a field splits the record
      utf8Bad, // a NUL byte
      good(9),
      'GET / HTTP/1.1 this is not any log format',
    ]);

    expect(code).toBe(0);
    expect(events.map((e) => e.requestId)).toEqual([
      'good-1', 'good-2', 'good-3', 'good-4', 'good-5', 'good-6', 'alg-none', 'good-7', 'good-8', 'good-9',
    ]);
    expect(dlq.map((d) => d.reason)).toEqual([
      'invalid_json', 'invalid_utf8', 'invalid_field', 'missing_field', 'line_too_long', 'nesting_too_deep', 'token_too_large',
      'invalid_json', 'unknown_format', 'binary_input', 'unknown_format',
    ]);
    expect(dlq.map((d) => d.line)).toEqual([2, 4, 6, 7, 9, 11, 14, 17, 18, 19, 21]);
    for (const d of dlq) {
      expect(d.input.length).toBeLessThanOrEqual(2049);
      expect(d.source).toMatch(/in-.*\.log$/);
    }

    const unsigned = events.find((e) => e.requestId === 'alg-none')!;
    expect(unsigned.claims).toMatchObject({ alg: 'none', sub: 'mallory', jti: 'unsigned-1' });
    const injected = events.find((e) => e.requestId === 'good-8')!;
    expect(injected.userAgent).not.toMatch(/[\u0000-\u001f]/);
    expect(injected.userAgent).toContain('\uFFFD');
  });

  it('reads an empty file as no events and exits 0', () => {
    const r = run([]);
    expect(r).toMatchObject({ events: [], dlq: [], code: 0 });
  });

  it('dead-letters a binary file line by line and exits 0', () => {
    const { events, dlq, code } = run([randomBytes(256 * 1024)]);
    expect(code).toBe(0);
    expect(events).toEqual([]);
    expect(dlq.length).toBeGreaterThan(0);
    for (const d of dlq) expect(['invalid_utf8', 'binary_input', 'line_too_long', 'unknown_format', 'invalid_json']).toContain(d.reason);
  });

  it('reads NGINX text lines between JSON records of other formats in one file', () => {
    const req = syntheticRequest({ requestId: 'nginx-1' });
    const { events, dlq } = run([good(1), nginxRenderer.render(req, 'combined'), good(2)]);
    expect(dlq).toEqual([]);
    expect(events.map((e) => e.gateway)).toEqual(['kong', 'nginx', 'kong']);
  });
});
