// Opening the store: config from the environment, a directory another process holds, and
// the one-store-per-process rule of the embedded engine. Its own test file, so its fork
// opens its own directory (the engine binds one per process).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../common/logger.js';
import { loadConfig } from '../../common/config.js';
import { connectionConfigFromEnv, connectionConfigSchema, openStore, type ClickHouseStore } from './connection.js';

const ctx = { logger: createLogger({ level: 'silent' }) };
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-conn-'));
  dirs.push(dir);
  return dir;
};

/** Another process holding `dir` through chdb directly, as any second tokenwatch would. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = `require('chdb/connection').createChdbConnection({ path: ${JSON.stringify(dir)} }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('clickhouse connection', () => {
  it('reads the server, credentials and store from the environment and names a bad field', () => {
    const env = { CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_USER: 'tw', CLICKHOUSE_PASSWORD: 'secret', CLICKHOUSE_DATABASE: 'tokenwatch', TOKENWATCH_STORE: '/var/lib/tw' };
    expect(loadConfig(connectionConfigSchema, connectionConfigFromEnv(env), 'clickhouse')).toEqual({
      store: '/var/lib/tw',
      url: 'http://127.0.0.1:8123',
      username: 'tw',
      password: 'secret',
      database: 'tokenwatch',
      requestTimeoutMs: 30_000,
    });
    expect(() => loadConfig(connectionConfigSchema, connectionConfigFromEnv({ CLICKHOUSE_URL: 'ftp://x' }), 'clickhouse')).toThrow(/^clickhouse\.url: /);
    expect(() => loadConfig(connectionConfigSchema, { database: 'x; DROP TABLE y' }, 'clickhouse')).toThrow(/^clickhouse\.database: a plain identifier/);
  });

  it('refuses a store another process holds, naming that process and what to do', async () => {
    const dir = tempDir();
    const child = await holder(dir);
    try {
      const err = await openStore(connectionConfigSchema.parse({ store: dir }), ctx).then(
        () => new Error('opened a store another process holds'),
        (e: unknown) => e as Error,
      );
      expect(err).toMatchObject({ name: 'TokenwatchError', code: 'TW_ERR_CLICKHOUSE_STORE_LOCKED' });
      expect(err.message).toContain(`the embedded store ${dir} is in use by another process (pid ${child.pid}, "${process.execPath} -e`);
      expect(err.message).toMatch(/wait for it to finish or stop it, or give this run another directory with --store \/ TOKENWATCH_STORE/);
      expect(err.message).not.toContain('\n');
    } finally {
      child.kill();
      await once(child, 'exit');
    }
    // The lock dies with its process: the directory opens now.
    const store = await openStore(connectionConfigSchema.parse({ store: dir }), ctx);
    expect(store).toMatchObject({ mode: 'embedded', target: dir });
    await store.close();
  });

  it('serves one embedded store per process and says so when asked for a second', async () => {
    const first: ClickHouseStore = await openStore(connectionConfigSchema.parse({ store: tempDir() }), ctx);
    try {
      const [row] = await (await first.client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json<{ one: number }>();
      expect(row).toEqual({ one: 1 });
      await expect(openStore(connectionConfigSchema.parse({ store: tempDir() }), ctx)).rejects.toMatchObject({
        code: 'TW_ERR_CLICKHOUSE_STORE_IN_USE',
        message: expect.stringContaining(`this process already has the embedded store ${first.target} open`),
      });
    } finally {
      await first.close();
      await first.close();
    }
  });
});
