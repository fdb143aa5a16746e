import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';
import { buildJwt } from '../ingest/generator/jwt.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('logger', () => {
  it('redacts authorization headers, cookies and token fields wherever they are logged', () => {
    const jwt = buildJwt({ sub: 'u1' });
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream as never });
    logger.info({ headers: { authorization: `Bearer ${jwt}`, cookie: 'session=abc123secret' } }, 'request');
    logger.info({ request: { headers: { authorization: 'Bearer opaque-secret-1' } } }, 'nested');
    logger.info({ token: 'opaque-secret-2', refresh_token: 'opaque-secret-3', authorization: 'Basic dXNlcjpwYXNz' }, 'fields');
    const text = out.text();
    expect(text).toContain('[redacted]');
    for (const secret of [jwt, 'abc123secret', 'opaque-secret-1', 'opaque-secret-2', 'opaque-secret-3', 'dXNlcjpwYXNz']) {
      expect(text).not.toContain(secret);
    }
  });
});
