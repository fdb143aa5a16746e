// Test helpers for ingest: a normaliser with a fixed key, a JWT builder, and a
// synthetic request factory for round-tripping each gateway format.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Normalizer, ingestConfigSchema, type IngestConfig } from '../../ingest/normalize.js';
import { fingerprint } from '../../ingest/fingerprint.js';
import type { SyntheticRequest } from '../../ingest/generator/types.js';
import { buildJwt } from '../../ingest/generator/jwt.js';

export const TEST_FP_KEY = 'test-fingerprint-key-0123456789';

/** A normaliser over the default ingest config plus `overrides`, keyed with TEST_FP_KEY. */
export function testNormalizer(overrides: Partial<IngestConfig> = {}): Normalizer {
  return new Normalizer(ingestConfigSchema.parse(overrides), TEST_FP_KEY);
}

/** The fingerprint tokenwatch must produce for `raw` under TEST_FP_KEY. */
export const fpOf = (raw: string): string => fingerprint(TEST_FP_KEY, raw);

/** A compact JWS with `claims`, HS256-signed with a test secret (or unsigned for alg none). */
export const makeJwt = buildJwt;

/** Lines of a fixture file under test/fixtures, blank lines dropped. */
export function fixtureLines(relative: string): string[] {
  const path = fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().length > 0);
}

/** A synthetic request with a JWT bearer token; fields overridable. */
export function syntheticRequest(overrides: Partial<SyntheticRequest> = {}): SyntheticRequest {
  const ts = Date.UTC(2026, 10, 25, 10, 15, 30, 123);
  return {
    ts,
    requestId: 'req-7f3a9c21',
    method: 'GET',
    path: '/api/orders/42',
    query: 'page=2',
    host: 'api.example.com',
    status: 200,
    latencyMs: 37,
    clientIp: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0',
    rawToken: makeJwt({
      jti: 'jti-0001',
      sub: 'user-17',
      sid: 'sess-9',
      azp: 'web-app',
      iat: Math.floor(ts / 1000) - 60,
      exp: Math.floor(ts / 1000) + 240,
      iss: 'https://idp.example.com/realms/demo',
      aud: 'orders-api',
    }),
    tokenIn: 'authorization',
    wwwAuthenticate: null,
    service: 'orders',
    route: 'orders-route',
    version: 'v2',
    track: 'canary',
    upstream: 'orders-canary',
    consumerId: 'consumer-3',
    ...overrides,
  };
}
