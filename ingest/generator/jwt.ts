// Builds compact JWS tokens for synthetic traffic and tests: HS256 over a fixed test
// secret (not a real key), or unsigned (`alg: none`) to exercise that path.
import { createHmac } from 'node:crypto';

const TEST_SECRET = 'tokenwatch-synthetic-signing-secret';

/** A JWT carrying `claims`; `header` fields are merged into the JOSE header. */
export function buildJwt(claims: Record<string, unknown>, alg = 'HS256', header: Record<string, unknown> = {}): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg, typ: 'JWT', ...header })}.${enc(claims)}`;
  if (alg === 'none') return `${input}.`;
  return `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
}
