// `tokenwatch migrate`: brings a store's schema up to date (the numbered files of sql/) and
// sets the retention of raw events and aggregates; analyze does the same at startup. Safe to re-run.
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import type { ComponentContext } from '../common/component.js';
import { loadConfig } from '../common/config.js';
import { openStore, storeConnectionConfig } from '../sinks/clickhouse/connection.js';
import { migrate, migrateConfigSchema, retentionSetting } from '../sinks/clickhouse/migrate.js';

export const MIGRATE_USAGE = `usage: tokenwatch migrate [--store <dir>] [--retention-days N] [--aggregate-retention-days N]
  Applies the schema to the embedded store (--store, TOKENWATCH_STORE, default .tokenwatch/store) or to
  the server CLICKHOUSE_URL names; --retention-days sets how long events are kept after ingestion
  (default 7), --aggregate-retention-days how long a per-minute aggregate is kept after it was
  last written (default 90).`;

/** Runs `tokenwatch migrate`; resolves to the exit code. */
export async function migrateCommand(argv: string[], ctx: ComponentContext, stdout: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      'retention-days': { type: 'string', default: '7' },
      'aggregate-retention-days': { type: 'string', default: '90' },
    },
    strict: true,
  });
  const config = loadConfig(
    migrateConfigSchema,
    { retentionDays: Number(values['retention-days']), aggregateRetentionDays: Number(values['aggregate-retention-days']) },
    '--retention-days / --aggregate-retention-days',
  );
  const store = await openStore(storeConnectionConfig(process.env, values.store), ctx);
  try {
    const result = await migrate(store.client, config, ctx);
    const applied = result.applied.length === 0 ? 'schema already up to date' : `applied ${result.applied.join(', ')}`;
    const retention = (['retentionDays', 'aggregateRetentionDays'] as const)
      .map((setting) => [result.retentionChanged.filter((t) => retentionSetting(t) === setting), config[setting]] as const)
      .filter(([tables]) => tables.length > 0)
      .map(([tables, days]) => `; retention of ${tables.join(', ')} set to ${days} days`)
      .join('');
    stdout.write(`tokenwatch migrate: ${store.target}: ${applied}${retention}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
