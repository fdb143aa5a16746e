// The header fields of a record read the same whether the parser loops over its keys (a record
// JSON.parse decoded) or runs the reader compiled for its key list (a record the shape decoder
// matched): every generated NGINX and Traefik line, and the edge cases of precedence, unset and
// redacted values, through both.
import { describe, expect, it } from 'vitest';
import { nginxParser } from './nginx.js';
import { traefikParser } from './traefik.js';
import type { AccessDraft, GatewayParser } from './types.js';
import type { JsonObject } from '../fields.js';
import { GATEWAY_RENDERERS } from '../generator/formats/index.js';
import { generateTraffic } from '../generator/traffic.js';
import { JsonShapes } from '../json-shapes.js';

function draft(parser: GatewayParser, value: JsonObject, keys?: readonly string[]): AccessDraft {
  const result = parser.parse(keys === undefined ? { kind: 'json', value } : { kind: 'json', value, keys });
  if (!result.ok || !('event' in result) || result.event === null) throw new Error(`not parsed: ${JSON.stringify(result)}`);
  return result.event;
}

/** The headers a draft holds, unset ones (undefined in a compiled reader's literal) left out. */
const present = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined));

/** Both ways of reading `value`: [loop, compiled]. */
function bothWays(parser: GatewayParser, value: JsonObject): Array<Pick<AccessDraft, 'requestHeaders' | 'responseHeaders' | 'tokenPresented'>> {
  return [draft(parser, value), draft(parser, value, Object.keys(value))].map((d) => ({
    requestHeaders: present(d.requestHeaders),
    responseHeaders: present(d.responseHeaders),
    tokenPresented: d.tokenPresented,
  }));
}

const NGINX = { msec: '1795600800.110', status: 200, request: 'GET /a HTTP/1.1', remote_addr: '198.51.100.7' };
const TRAEFIK = { StartUTC: '2026-11-25T10:00:00.153Z', DownstreamStatus: 200, RequestMethod: 'GET', RequestPath: '/a' };

describe('header fields', () => {
  it('give every generated NGINX and Traefik JSON line the same draft through the shape decoder as through JSON.parse', () => {
    const traffic = generateTraffic({ users: 40, durationMs: 120_000, meanGapMs: 500 });
    for (const [format, parser] of [['nginx', nginxParser], ['traefik', traefikParser]] as const) {
      const renderer = GATEWAY_RENDERERS.find((r) => r.format === format)!;
      const shapes = new JsonShapes();
      let compiled = 0;
      for (const r of traffic.requests) {
        const text = renderer.render(r, 'json');
        const bytes = Buffer.from(text);
        const shaped = shapes.decode(bytes);
        const parsed = JSON.parse(text) as JsonObject;
        if (shaped === null) {
          shapes.learn(parsed, bytes);
          continue;
        }
        compiled++;
        const viaShape = draft(parser, shaped, shapes.keys);
        const viaParse = draft(parser, parsed);
        expect({ ...viaShape, requestHeaders: present(viaShape.requestHeaders), responseHeaders: present(viaShape.responseHeaders) }).toEqual(viaParse);
      }
      expect(compiled).toBeGreaterThan(traffic.requests.length / 2);
    }
  });

  it('let what the client got win over what the backend sent, and the later of two fields of one rank', () => {
    const nginx = { ...NGINX, sent_http_x_a: 'sent', upstream_http_x_a: 'upstream', upstream_http_x_b: 'first', upstream_http_X_B: 'second', sent_http_x_c: '-', upstream_http_x_c: 'kept' };
    for (const read of bothWays(nginxParser, nginx)) expect(read.responseHeaders).toEqual({ 'x-a': 'sent', 'x-b': 'second', 'x-c': 'kept' });
    const traefik = { ...TRAEFIK, 'origin_X-A': 'origin', 'downstream_X-A': 'downstream', 'downstream_X-B': '', 'origin_X-B': 'origin b', request_Host: 'h', request_HOST: 'H' };
    for (const read of bothWays(traefikParser, traefik)) {
      expect(read.responseHeaders).toEqual({ 'x-a': 'downstream', 'x-b': 'origin b' });
      expect(read.requestHeaders).toEqual({ host: 'H' });
    }
  });

  it('read an empty NGINX $http_authorization as no credential and a Traefik REDACTED one as a credential sent', () => {
    for (const value of ['', '-', 7]) {
      for (const read of bothWays(nginxParser, { ...NGINX, http_authorization: value, http_user_agent: 'curl/8.5.0' })) {
        expect(read).toEqual({ requestHeaders: { 'user-agent': 'curl/8.5.0' }, responseHeaders: {}, tokenPresented: false });
      }
    }
    for (const read of bothWays(nginxParser, { ...NGINX, http_authorization: 'Bearer abc' })) expect(read.tokenPresented).toBeNull();
    for (const read of bothWays(traefikParser, { ...TRAEFIK, request_Authorization: 'REDACTED', 'request_X-Api-Key': 'REDACTED', 'downstream_X-Trace': '-' })) {
      expect(read).toEqual({ requestHeaders: {}, responseHeaders: { 'x-trace': '-' }, tokenPresented: true });
    }
    for (const read of bothWays(traefikParser, { ...TRAEFIK, request_Authorization: '' })) expect(read.tokenPresented).toBeNull();
  });

  it('never take a header named __proto__ for the prototype', () => {
    const value = { ...TRAEFIK, request___proto__: 'x', request_Host: 'h' };
    for (const d of [draft(traefikParser, value), draft(traefikParser, value, Object.keys(value))]) {
      expect(present(d.requestHeaders)).toEqual({ host: 'h' });
      expect(Object.getPrototypeOf(d.requestHeaders)).toBe(Object.prototype);
      expect(Object.keys(d.requestHeaders)).not.toContain('__proto__');
    }
  });
});
