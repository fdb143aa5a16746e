// Applies the numbered migrations of sql/ (NNN_name.sql) in order and records each in
// schema_migrations with its checksum. Every statement is CREATE ... IF NOT EXISTS, so a
// re-run, or two workers migrating at once, is a no-op; a shipped migration whose text
// changed is refused. Then sets the retention (TTL) of the raw events and of the per-minute
// aggregates to the configured days.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ClickHouseClient } from '@clickhouse/client';
import { TokenwatchError } from '../../common/errors.js';
import type { ComponentContext } from '../../common/component.js';

export const migrateConfigSchema = z
  .object({
    /** Days gateway and IdP events are kept after ingestion (TTL of `events` and `token_events`). Default 7. */
    retentionDays: z.number().int().min(1).max(3650).default(7),
    /** Days a per-minute aggregate row is kept after it was last written (`auth_minutely`, `token_minutely`). Default 90. */
    aggregateRetentionDays: z.number().int().min(1).max(3650).default(90),
  })
  .strict();
export type MigrateConfig = z.output<typeof migrateConfigSchema>;

/** One migration file, split into statements. */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
  /** sha256 of the file's text, recorded when applied. */
  checksum: string;
}

/** What a run did. */
export interface MigrateResult {
  /** File names applied by this run, in order; empty on a re-run. */
  applied: string[];
  /** Tables whose TTL was changed to the configured retention. */
  retentionChanged: string[];
}

const FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;
/** Tables whose TTL follows a retention setting, and the column it counts from; the interval is the only part migrate rewrites. */
const RETENTION: ReadonlyArray<{ table: string; column: string; days: keyof MigrateConfig }> = [
  { table: 'events', column: 'ingested_at', days: 'retentionDays' },
  { table: 'token_events', column: 'ingested_at', days: 'retentionDays' },
  { table: 'auth_minutely', column: 'written_at', days: 'aggregateRetentionDays' },
  { table: 'token_minutely', column: 'written_at', days: 'aggregateRetentionDays' },
];

/** The setting a table's retention follows. */
export const retentionSetting = (table: string): keyof MigrateConfig | undefined => RETENTION.find((r) => r.table === table)?.days;

/** The package's sql/ directory, from the source tree (tests) or from dist/ (installed). */
export function sqlDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'sql', '000_schema_migrations.sql'))) return join(dir, 'sql');
    dir = dirname(dir);
  }
  throw new TokenwatchError('TW_ERR_CLICKHOUSE_MIGRATIONS_MISSING', `no sql/ directory with 000_schema_migrations.sql above ${fileURLToPath(import.meta.url)}`);
}

/** Reads and orders the migrations in `dir`. Statements end with `;` at a line end; `--` lines are comments. */
export function loadMigrations(dir: string = sqlDirectory()): Migration[] {
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = FILE.exec(name);
    if (m === null) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    const statements = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('--'))
      .join('\n')
      .split(/;[ \t]*$/m)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const version = Number(m[1]);
    if (migrations.at(-1)?.version === version) {
      throw new TokenwatchError('TW_ERR_CLICKHOUSE_MIGRATION_DUPLICATE', `two migrations numbered ${m[1]} in ${dir}: ${migrations.at(-1)!.name} and ${name}`);
    }
    migrations.push({ version, name, statements, checksum: createHash('sha256').update(text).digest('hex') });
  }
  if (migrations[0]?.version !== 0) throw new TokenwatchError('TW_ERR_CLICKHOUSE_MIGRATIONS_MISSING', `${dir} has no 000_schema_migrations.sql`);
  return migrations;
}

/** Brings the schema up to date; safe to run at every startup. */
export async function migrate(
  client: ClickHouseClient,
  config: MigrateConfig,
  ctx: Pick<ComponentContext, 'logger'>,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrateResult> {
  // 000 creates the record itself; it is idempotent like every migration, so it always runs.
  for (const statement of migrations[0]!.statements) await client.command({ query: statement });
  const recorded = new Map<number, string>();
  const rs = await client.query({ query: 'SELECT version, argMax(checksum, applied_at) AS checksum FROM schema_migrations GROUP BY version', format: 'JSONEachRow' });
  for (const row of await rs.json<{ version: number | string; checksum: string }>()) recorded.set(Number(row.version), row.checksum);

  const applied: string[] = [];
  for (const m of migrations) {
    const checksum = recorded.get(m.version);
    if (checksum !== undefined) {
      if (checksum !== m.checksum) {
        throw new TokenwatchError(
          'TW_ERR_CLICKHOUSE_MIGRATION_CHANGED',
          `migration ${m.name} was applied with a different text (checksum ${checksum.slice(0, 12)}, now ${m.checksum.slice(0, 12)}); shipped migrations are never edited: restore it and add a new numbered migration`,
        );
      }
      continue;
    }
    for (const statement of m.statements) await client.command({ query: statement });
    // Names match FILE and checksums are hex, so the literals need no escaping.
    await client.command({ query: `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, '${m.name}', '${m.checksum}', now64(3))` });
    applied.push(m.name);
  }

  const retentionChanged: string[] = [];
  for (const { table, column, days } of RETENTION) {
    if ((await ttlDays(client, table, column)) === config[days]) continue;
    await client.command({ query: `ALTER TABLE ${table} MODIFY TTL ${column} + INTERVAL ${config[days]} DAY` });
    retentionChanged.push(table);
  }
  if (applied.length > 0 || retentionChanged.length > 0) {
    ctx.logger.info({ applied, retentionChanged, retentionDays: config.retentionDays, aggregateRetentionDays: config.aggregateRetentionDays }, 'clickhouse schema migrated');
  }
  return { applied, retentionChanged };
}

/** The retention of a table in days, as its TTL clause on `column` says; null when it has none. */
async function ttlDays(client: ClickHouseClient, table: string, column: string): Promise<number | null> {
  const rs = await client.query({ query: `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '${table}'`, format: 'JSONEachRow' });
  const [row] = await rs.json<{ engine_full: string }>();
  // ClickHouse normalises `INTERVAL 7 DAY` to `toIntervalDay(7)` in engine_full.
  const m = row === undefined ? null : new RegExp(`TTL ${column} \\+ toIntervalDay\\((\\d+)\\)`).exec(row.engine_full);
  return m === null ? null : Number(m[1]);
}
