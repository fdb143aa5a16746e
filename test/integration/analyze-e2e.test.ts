// `tokenwatch analyze` over `tokenwatch gen` output, through the real CLI: every injected
// anomaly is found by its detector, and nothing else earns a revoke, a rollback, or a high /
// critical severity: benign look-alikes and background traffic stay below that.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TEST_FP_KEY } from '../helpers/ingest.js';
import { findingSchema, type Finding } from '../../detectors/finding.js';
import { labelSchema, type Label } from '../../ingest/generator/scenarios.js';
import { isSerious as serious, labelMatches as matches } from '../../detectors/label-match.js';

const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY };

function run(format: string): { findings: Finding[]; labels: Label[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), `tw-e2e-${format}-`));
  const gen = runCli(['gen', '--out-dir', dir, '--format', format, '--minutes', '20', '--seed', '7'], { env });
  expect(gen.code, gen.stderr).toBe(0);
  const a = runCli(['analyze', '--logs', join(dir, 'access.log'), '--token-events', join(dir, 'token-events.jsonl'), '--dlq', join(dir, 'dlq.jsonl'), '--no-store'], { env });
  expect(a.code, a.stderr).toBe(0);
  const findings = a.stdout.split('\n').filter(Boolean).map((l) => findingSchema.parse(JSON.parse(l)));
  const labels = (JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as unknown[]).map((l) => labelSchema.parse(l));
  return { findings, labels, stderr: a.stderr };
}

describe.each(['kong', 'mixed'])('analyze over generated %s traffic', (format) => {
  let result: ReturnType<typeof run>;
  beforeAll(() => {
    result = run(format);
  });

  it('finds every injected anomaly with the detector of its kind', () => {
    const anomalies = result.labels.filter((l) => l.expect === 'finding');
    expect(new Set(anomalies.map((l) => l.kind))).toEqual(new Set(['token_replay', 'refresh_token_reuse', 'use_after_revoke', 'use_after_expiry', 'auth_failure_spike']));
    for (const l of anomalies) {
      expect(result.findings.some((f) => matches(f, l)), `${l.kind} ${l.name}: ${l.note}`).toBe(true);
    }
  });

  it('raises no revoke, rollback, high or critical finding that is not an injected anomaly', () => {
    const anomalies = result.labels.filter((l) => l.expect === 'finding');
    const unexplained = result.findings.filter((f) => serious(f) && !anomalies.some((l) => matches(f, l)));
    expect(unexplained.map((f) => `${f.kind} ${f.severity} ${f.action}: ${f.summary}`)).toEqual([]);
  });

  it('keeps every benign look-alike below revoke, rollback and high severity', () => {
    for (const l of result.labels.filter((x) => x.expect === 'silent')) {
      const hit = result.findings.filter((f) => serious(f) && matches(f, l));
      expect(hit.map((f) => `${f.kind}: ${f.summary}`), `${l.name}: ${l.note}`).toEqual([]);
    }
  });

  it('gives the actions the architecture asks for: revoke for theft and reuse, rollback for the canary', () => {
    const byKind = (k: Finding['kind']) => result.findings.filter((f) => f.kind === k && result.labels.some((l) => l.expect === 'finding' && matches(f, l)));
    expect(byKind('token_replay').every((f) => f.action === 'revoke')).toBe(true);
    expect(byKind('refresh_token_reuse').every((f) => f.action === 'revoke')).toBe(true);
    expect(byKind('auth_failure_spike').some((f) => f.action === 'rollback' && f.track === 'canary')).toBe(true);
    expect(result.stderr).toMatch(/events analysed, \d+ findings/);
  });
});

describe('analyze from stdin', () => {
  it('reads gateway logs from `--logs -` in the node child it runs in, with the findings the file gives', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-e2e-stdin-'));
    const gen = runCli(['gen', '--out-dir', dir, '--format', 'nginx', '--minutes', '10', '--seed', '3'], { env });
    expect(gen.code, gen.stderr).toBe(0);
    const rest = ['--token-events', join(dir, 'token-events.jsonl'), '--no-store'];
    const fromFile = runCli(['analyze', '--logs', join(dir, 'access.log'), ...rest], { env });
    const fromStdin = runCli(['analyze', '--logs', '-', ...rest], { env, input: readFileSync(join(dir, 'access.log')) });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const outline = (stdout: string): string[] =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => findingSchema.parse(JSON.parse(l)))
        .map((f) => `${f.id} ${f.kind} ${f.severity} ${f.action} ${f.summary}`);
    expect(outline(fromStdin.stdout).length).toBeGreaterThan(0);
    expect(outline(fromStdin.stdout)).toEqual(outline(fromFile.stdout));
  });
});
