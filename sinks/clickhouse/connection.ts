// Opens the ClickHouse store that sinks, migrations and reports share: a @clickhouse/client
// client on the embedded engine (chdb, one data directory) by default, or on a ClickHouse
// server over HTTP when a URL is configured (CLICKHOUSE_URL). Past this factory the code
// is the same for both. Guarantees: one embedded store per process, and a directory held
// by another process fails with TW_ERR_CLICKHOUSE_STORE_LOCKED naming it, not a stack trace.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { TokenwatchError } from '../../common/errors.js';
import { loadConfig } from '../../common/config.js';
import type { ComponentContext } from '../../common/component.js';

export const connectionConfigSchema = z
  .object({
    /** Embedded store: the chdb data directory, created when absent (`--store`, TOKENWATCH_STORE). Default `.tokenwatch/store`. */
    store: z.string().min(1).default('.tokenwatch/store'),
    /** ClickHouse server HTTP(S) URL (CLICKHOUSE_URL); when set the server is used instead of the embedded store. Default none. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** Server user (CLICKHOUSE_USER). Default `default`. */
    username: z.string().min(1).default('default'),
    /** Server password (CLICKHOUSE_PASSWORD). Default empty. */
    password: z.string().default(''),
    /** Server database the migrations and sinks use (CLICKHOUSE_DATABASE); the embedded store always uses `default`. Default `default`. */
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier').default('default'),
    /** Server request timeout, ms. Default 30000. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();
export type ConnectionConfig = z.output<typeof connectionConfigSchema>;

/** The config input read from the environment; explicit options (e.g. `--store`) go over it. */
export function connectionConfigFromEnv(env: NodeJS.ProcessEnv): z.input<typeof connectionConfigSchema> {
  const config: z.input<typeof connectionConfigSchema> = {};
  if (env.TOKENWATCH_STORE) config.store = env.TOKENWATCH_STORE;
  if (env.CLICKHOUSE_URL) config.url = env.CLICKHOUSE_URL;
  if (env.CLICKHOUSE_USER) config.username = env.CLICKHOUSE_USER;
  if (env.CLICKHOUSE_PASSWORD) config.password = env.CLICKHOUSE_PASSWORD;
  if (env.CLICKHOUSE_DATABASE) config.database = env.CLICKHOUSE_DATABASE;
  return config;
}

/** A command's connection: the environment, with an explicit `--store` over it, validated (a bad field is named). */
export function storeConnectionConfig(env: NodeJS.ProcessEnv, store: string | undefined): ConnectionConfig {
  const input = connectionConfigFromEnv(env);
  if (store !== undefined) input.store = store;
  return loadConfig(connectionConfigSchema, input, 'store');
}

/** An open store: the client, where it points, and how to release it. */
export interface ClickHouseStore {
  readonly client: ClickHouseClient;
  readonly mode: 'embedded' | 'server';
  /** The data directory (embedded) or the URL and database (server, no credentials), for logs. */
  readonly target: string;
  /** Closes the client; releases the embedded directory for other processes. Safe twice. */
  close(): Promise<void>;
}

/** A process that holds an embedded store directory. */
interface StoreHolder {
  pid: number;
  /** Its command line, when the OS tells (Linux /proc). */
  command: string | null;
  /** When it opened the store, as chdb recorded it. */
  startedAt: string | null;
}

// libchdb binds one data directory per process for the life of the engine session.
let openDirectory: string | null = null;

/** Opens the embedded store or connects to the server, as `config` says. */
export async function openStore(config: ConnectionConfig, ctx: Pick<ComponentContext, 'logger'>): Promise<ClickHouseStore> {
  return config.url === undefined ? openEmbedded(config, ctx) : openServer(config, config.url, ctx);
}

async function openServer(config: ConnectionConfig, url: string, ctx: Pick<ComponentContext, 'logger'>): Promise<ClickHouseStore> {
  const client = createClient({
    url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs,
    application: 'tokenwatch',
  });
  const { origin } = new URL(url);
  const target = `${origin}/${config.database}`;
  const ping = await client.ping();
  if (!ping.success) {
    await client.close();
    throw new TokenwatchError('TW_ERR_CLICKHOUSE_UNREACHABLE', `ClickHouse server ${target} did not answer: ${ping.error.message}; check CLICKHOUSE_URL and that the server is up`, {
      retryable: true,
      cause: ping.error,
    });
  }
  ctx.logger.info({ mode: 'server', target }, 'clickhouse store opened');
  let closed = false;
  return {
    client,
    mode: 'server',
    target,
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

async function openEmbedded(config: ConnectionConfig, ctx: Pick<ComponentContext, 'logger'>): Promise<ClickHouseStore> {
  const dir = resolve(config.store);
  if (openDirectory !== null) {
    throw new TokenwatchError(
      'TW_ERR_CLICKHOUSE_STORE_IN_USE',
      `this process already has the embedded store ${openDirectory} open; the embedded engine serves one store per process: share that store, or close it before opening ${dir}`,
    );
  }
  mkdirSync(dir, { recursive: true });
  // Ask before opening: chdb's own refusal prints a native line to stderr and says only
  // "Failed to create connection"; the holder's pid sits in the flock on `status`.
  const holder = storeHolder(dir);
  if (holder !== null && holder.pid !== process.pid) throw lockedError(dir, holder);
  // Loaded here so a server deployment never maps the 560 MB engine library.
  const { createChdbConnection } = await import('chdb/connection');
  let connection: ReturnType<typeof createChdbConnection>;
  try {
    connection = createChdbConnection({ path: dir });
  } catch (err) {
    // A holder that appeared between the check and the open, or one /proc could not show.
    const late = storeHolder(dir) ?? statusFileHolder(dir);
    if (late !== null && late.pid !== process.pid) throw lockedError(dir, late, err);
    throw new TokenwatchError('TW_ERR_CLICKHOUSE_STORE_OPEN', `cannot open the embedded store ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  openDirectory = dir;
  // The two packages declare the same Connection contract from separate copies of
  // @clickhouse/client-common, so the types do not line up (ARCHITECTURE.md, chdb notes).
  const client = createClient({ connection: connection as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] });
  ctx.logger.info({ mode: 'embedded', target: dir }, 'clickhouse store opened');
  let closed = false;
  return {
    client,
    mode: 'embedded',
    target: dir,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        openDirectory = null;
      }
    },
  };
}

/**
 * The process holding the embedded store `dir`, or null when it is free. ClickHouse keeps
 * an exclusive flock on `<dir>/status` while a process has the directory open and writes
 * its pid there; on Linux /proc/locks names the lock's owner, which also tells a live lock
 * from a status file a crashed process left behind.
 */
function storeHolder(dir: string): StoreHolder | null {
  const statusPath = join(dir, 'status');
  let inode: number;
  let device: number;
  try {
    const st = statSync(statusPath);
    inode = st.ino;
    device = st.dev;
  } catch {
    return null;
  }
  let locks: string;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return statusFileHolder(dir);
  }
  // Lines look like `1: FLOCK  ADVISORY  WRITE 24684 fe:00:10003462 0 EOF` (proc(5)).
  for (const line of locks.split('\n')) {
    const m = /^\d+:\s+(?:->\s+)?FLOCK\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m === null || Number(m[4]) !== inode) continue;
    const major = parseInt(m[2]!, 16);
    const minor = parseInt(m[3]!, 16);
    if (!sameDevice(device, major, minor)) continue;
    const pid = Number(m[1]);
    return { pid, command: commandOf(pid), startedAt: parseStatus(statusPath)?.startedAt ?? null };
  }
  return null;
}

// Linux dev_t encoding (glibc makedev): major in bits 8-19 and 32+, minor in bits 0-7 and 20-31.
function sameDevice(dev: number, major: number, minor: number): boolean {
  const d = BigInt(dev);
  const devMajor = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const devMinor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return devMajor === major && devMinor === minor;
}

// Without /proc/locks (not Linux): believe the pid in the status file while it is alive.
function statusFileHolder(dir: string): StoreHolder | null {
  const status = parseStatus(join(dir, 'status'));
  if (status === null) return null;
  try {
    process.kill(status.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return { pid: status.pid, command: commandOf(status.pid), startedAt: status.startedAt };
}

function parseStatus(path: string): { pid: number; startedAt: string | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  // Written by ClickHouse's StatusFile: "PID: 123\nStarted at: 2026-11-25 03:12:43\nRevision: ...".
  const pid = /^PID:\s*(\d+)/m.exec(text);
  if (pid === null) return null;
  return { pid: Number(pid[1]), startedAt: /^Started at:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null };
}

function commandOf(pid: number): string | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return argv.length > 200 ? `${argv.slice(0, 200)}…` : argv || null;
  } catch {
    return null;
  }
}

function lockedError(dir: string, holder: StoreHolder, cause?: unknown): TokenwatchError {
  const who = [`pid ${holder.pid}`, holder.command && `"${holder.command}"`, holder.startedAt && `since ${holder.startedAt}`].filter(Boolean).join(', ');
  return new TokenwatchError(
    'TW_ERR_CLICKHOUSE_STORE_LOCKED',
    `the embedded store ${dir} is in use by another process (${who}); an embedded store serves one process at a time: wait for it to finish or stop it, or give this run another directory with --store / TOKENWATCH_STORE (or a ClickHouse server with CLICKHOUSE_URL)`,
    { cause },
  );
}
