// The store commands through the real CLI: migrate applies the schema once and says so,
// report refuses a store that does not exist or holds no schema with a message that says
// what to run, and analyze refuses --store with --no-store.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TEST_FP_KEY } from '../helpers/ingest.js';

const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY };

describe('store commands', () => {
  it('migrate applies every migration once, then reports the schema up to date', () => {
    const store = join(mkdtempSync(join(tmpdir(), 'tw-migrate-')), 'store');
    const first = runCli(['migrate', '--store', store], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied 000_schema_migrations\.sql, 001_events\.sql, .*006_findings\.sql, 007_aggregate_retention\.sql/);
    const again = runCli(['migrate', '--store', store, '--retention-days', '14'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('schema already up to date; retention of events, token_events set to 14 days\n');
    const aggregates = runCli(['migrate', '--store', store, '--retention-days', '14', '--aggregate-retention-days', '365'], { env });
    expect(aggregates.code, aggregates.stderr).toBe(0);
    expect(aggregates.stdout).toContain('schema already up to date; retention of auth_minutely, token_minutely set to 365 days\n');
    const refused = runCli(['migrate', '--store', store, '--aggregate-retention-days', '0'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('aggregateRetentionDays');
  });

  it('report explains a missing store and an empty one instead of failing with a stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-report-'));
    const missing = runCli(['report', '--store', join(dir, 'nowhere')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no store at');
    expect(missing.stderr).toContain('tokenwatch analyze');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const migrated = join(dir, 'migrated');
    expect(runCli(['migrate', '--store', migrated], { env }).code).toBe(0);
    const empty = runCli(['report', '--store', migrated, '--json'], { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ events: 0, window: null, findingsByKind: [] });
    const bare = mkdtempSync(join(dir, 'bare-'));
    const unmigrated = runCli(['report', '--store', bare], { env });
    expect(unmigrated.code).toBe(2);
    expect(unmigrated.stderr).toContain('holds no tokenwatch data');
  });

  it('analyze refuses --store together with --no-store', () => {
    const r = runCli(['analyze', '--logs', 'x.log', '--store', 'a', '--no-store'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--store and --no-store exclude each other');
  });
});
