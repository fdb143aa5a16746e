// Turns a raw token into its fingerprint: hex(HMAC-SHA256(key, rawToken))[0..32]
// (ARCHITECTURE.md, "Token fingerprint"). Gateways compute the same value to match revocations.
// The key comes from TOKENWATCH_FP_KEY; without it only an explicit dev mode may run.
import { createHmac } from 'node:crypto';
import { TokenwatchError } from '../common/errors.js';

/** The fingerprint of `rawToken` (without its `Bearer ` prefix) under `key`. */
export function fingerprint(key: string | Buffer, rawToken: string): string {
  return createHmac('sha256', key).update(rawToken, 'utf8').digest('hex').slice(0, 32);
}

/** Key used in dev mode only; fingerprints made with it match nothing in production. */
export const DEV_FP_KEY = 'tokenwatch-dev-key-not-for-production';

/** Resolves the fingerprint key from the environment, refusing to run without one outside dev mode. */
export function resolveFpKey(env: NodeJS.ProcessEnv, dev: boolean): { key: string; dev: boolean } {
  const key = env.TOKENWATCH_FP_KEY;
  if (key !== undefined && key.length > 0) {
    if (key.length < 16) {
      throw new TokenwatchError(
        'TW_ERR_CONFIG_FP_KEY',
        'TOKENWATCH_FP_KEY: must be at least 16 characters (an HMAC key shared with your gateways)',
      );
    }
    return { key, dev: false };
  }
  if (dev) return { key: DEV_FP_KEY, dev: true };
  throw new TokenwatchError(
    'TW_ERR_CONFIG_FP_KEY',
    'TOKENWATCH_FP_KEY is not set: token fingerprints must use the secret HMAC key your gateways share, ' +
      'or revocations will match nothing. Set it, or pass --dev to run with a throw-away key.',
  );
}
