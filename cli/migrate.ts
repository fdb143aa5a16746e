// `tokenwatch migrate`: brings a store's schema up to date (the numbered files of sql/) and
// sets the raw-event retention; analyze does the same at startup. Safe to re-run.
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import type { ComponentContext } from '../common/component.js';
import { loadConfig } from '../common/config.js';
import { openStore, storeConnectionConfig } from '../sinks/clickhouse/connection.js';
import { migrate, migrateConfigSchema } from '../sinks/clickhouse/migrate.js';

export const MIGRATE_USAGE = `usage: tokenwatch migrate [--store <dir>] [--retention-days N]
  Applies the schema to the embedded store (--store, TOKENWATCH_STORE, default .tokenwatch/store) or to
  the server CLICKHOUSE_URL names; --retention-days sets how long events are kept (default 7).`;

/** Runs `tokenwatch migrate`; resolves to the exit code. */
export async function migrateCommand(argv: string[], ctx: ComponentContext, stdout: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      'retention-days': { type: 'string', default: '7' },
    },
    strict: true,
  });
  const config = loadConfig(migrateConfigSchema, { retentionDays: Number(values['retention-days']) }, '--retention-days');
  const store = await openStore(storeConnectionConfig(process.env, values.store), ctx);
  try {
    const result = await migrate(store.client, config, ctx);
    const applied = result.applied.length === 0 ? 'schema already up to date' : `applied ${result.applied.join(', ')}`;
    const retention = result.retentionChanged.length === 0 ? '' : `; retention of ${result.retentionChanged.join(', ')} set to ${config.retentionDays} days`;
    stdout.write(`tokenwatch migrate: ${store.target}: ${applied}${retention}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
