// `tokenwatch gen` end to end through the built CLI: the files appear, tokenwatch parse reads
// every record back without a DLQ entry, the labels validate, and the same seed writes the same bytes.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { runCli } from '../test/helpers/cli.js';
import { TEST_FP_KEY } from '../test/helpers/ingest.js';
import { labelSchema } from '../ingest/generator/scenarios.js';

const root = mkdtempSync(join(tmpdir(), 'tw-gen-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY };
// Short and small: every injection still fits in 5 minutes, and the runs stay quick.
const SMALL = ['--minutes', '5', '--users', '10'];

let dirs = 0;
function gen(args: string[]): string {
  const dir = join(root, `run-${dirs++}`);
  const r = runCli(['gen', '--out-dir', dir, ...SMALL, ...args], { env });
  expect(r.stderr.split('\n').filter((l) => l.startsWith('tokenwatch gen: wrote'))).toHaveLength(3);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

/** Runs tokenwatch parse over `file`; returns the canonical events and the DLQ lines. */
function parseBack(flag: '--logs' | '--token-events', file: string, format: string[]): { events: string[]; dlq: string[] } {
  const dlq = `${file}.dlq.jsonl`;
  const r = runCli(['parse', flag, file, ...format, '--dlq', dlq], { env });
  expect(r.code, r.stderr).toBe(0);
  return { events: lines(r.stdout), dlq: lines(readFileSync(dlq, 'utf8')) };
}

describe('tokenwatch gen', () => {
  it('writes kong access logs, canonical token events and labels that parse back without DLQ records', () => {
    const dir = gen([]);
    const access = lines(readFileSync(join(dir, 'access.log'), 'utf8'));
    const events = lines(readFileSync(join(dir, 'token-events.jsonl'), 'utf8'));

    const parsedAccess = parseBack('--logs', join(dir, 'access.log'), ['--format', 'kong']);
    expect(parsedAccess.dlq).toEqual([]);
    expect(parsedAccess.events).toHaveLength(access.length);
    const parsedEvents = parseBack('--token-events', join(dir, 'token-events.jsonl'), ['--idp-format', 'canonical']);
    expect(parsedEvents.dlq).toEqual([]);
    expect(parsedEvents.events).toHaveLength(events.length);

    const labels = z.array(labelSchema).parse(JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')));
    expect(new Set(labels.map((l) => l.name)).size).toBe(12);
    expect(labels.filter((l) => l.expect === 'finding').map((l) => l.kind)).toEqual(
      expect.arrayContaining(['token_replay', 'refresh_token_reuse', 'use_after_revoke', 'use_after_expiry', 'auth_failure_spike']),
    );
  });

  it('writes gzip files with --gzip, and a mixed log that format auto detection reads in full', () => {
    const dir = gen(['--format', 'mixed', '--gzip']);
    const raw = readFileSync(join(dir, 'access.log.gz'));
    expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
    const parsed = parseBack('--logs', join(dir, 'access.log.gz'), ['--format', 'auto']);
    expect(parsed.dlq).toEqual([]);
    expect(parsed.events).toHaveLength(lines(gunzipSync(raw).toString('utf8')).length);
    const gateways = new Set(parsed.events.map((e) => (JSON.parse(e) as { gateway: string }).gateway));
    expect([...gateways].sort()).toEqual(['envoy', 'kong', 'nginx', 'traefik', 'tyk']);
    expect(parseBack('--token-events', join(dir, 'token-events.jsonl.gz'), ['--idp-format', 'auto']).dlq).toEqual([]);
  });

  for (const idp of ['keycloak', 'auth0', 'okta']) {
    it(`writes ${idp} token events that parse back without DLQ records`, () => {
      const dir = gen(['--idp-format', idp, '--format', 'envoy', '--variant', 'text']);
      const parsed = parseBack('--token-events', join(dir, 'token-events.jsonl'), ['--idp-format', idp]);
      expect(parsed.dlq).toEqual([]);
      expect(parsed.events.length).toBeGreaterThan(0);
      expect(parseBack('--logs', join(dir, 'access.log'), ['--format', 'envoy']).dlq).toEqual([]);
    });
  }

  it('writes the same bytes for the same seed', () => {
    const [a, b] = [gen(['--seed', '7']), gen(['--seed', '7'])];
    for (const file of ['access.log', 'token-events.jsonl', 'labels.json']) {
      expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), file).toBe(true);
    }
  });

  it('refuses an unknown variant and a missing --out-dir with a usage error', () => {
    const bad = runCli(['gen', '--out-dir', join(root, 'bad'), '--format', 'kong', '--variant', 'text'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--variant: kong has json, got "text"');
    const missing = runCli(['gen'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out-dir is required');
  });
});
