// The ClickHouse server the server-path tests run against: CLICKHOUSE_URL when set (with
// CLICKHOUSE_USER / CLICKHOUSE_PASSWORD), else a throw-away container from testcontainers'
// ClickHouse module where a Docker engine is reachable, else none: the project's own
// machines have no Docker engine (ARCHITECTURE.md), and there the suites run on chdb alone.
import { existsSync } from 'node:fs';

/** Same image as docker-compose.yml. */
const IMAGE = 'clickhouse/clickhouse-server:25.8';

export interface ServerUnderTest {
  url: string;
  username: string | undefined;
  password: string | undefined;
  /** Stops the container this helper started; nothing for a server given by URL. */
  stop(): Promise<void>;
}

/** Whether a server is there to test against; decided without I/O beyond a stat, for describe.skipIf. */
export function serverAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CLICKHOUSE_URL) return true;
  if (env.TOKENWATCH_TEST_DOCKER === '0') return false;
  return Boolean(env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/** The server to test against; starts a container when no CLICKHOUSE_URL is given. */
export async function clickhouseServer(env: NodeJS.ProcessEnv = process.env): Promise<ServerUnderTest> {
  if (env.CLICKHOUSE_URL) return { url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, stop: async () => {} };
  // Loaded only here: the package is a dev dependency that machines without Docker never need.
  const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
  const container = await new ClickHouseContainer(IMAGE).start();
  return {
    url: container.getHttpUrl(),
    username: container.getUsername(),
    password: container.getPassword(),
    stop: async () => {
      await container.stop();
    },
  };
}
