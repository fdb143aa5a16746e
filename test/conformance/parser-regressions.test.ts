// Regressions the parser conformance suite found, one test per mechanism that broke. Consumes
// documented samples with one value changed; holds the fixed parsers (and the normaliser) to events
// the AccessEvent schema accepts, or to a DLQ reason. Kept here, beside the suite that found them,
// rather than in each parser's own test file.
import { describe, expect, it } from 'vitest';
import { accessEventSchema } from '../../ingest/model.js';
import type { ParseResult } from '../../ingest/parse-result.js';
import type { AccessEvent } from '../../ingest/model.js';
import type { JsonObject } from '../../ingest/fields.js';
import type { GatewayParser, RawRecord } from '../../ingest/parsers/types.js';
import { envoyParser } from '../../ingest/parsers/envoy.js';
import { kongParser } from '../../ingest/parsers/kong.js';
import { nginxParser } from '../../ingest/parsers/nginx.js';
import { traefikParser } from '../../ingest/parsers/traefik.js';
import { tykParser } from '../../ingest/parsers/tyk.js';
import { fixtureLines, testNormalizer } from '../helpers/ingest.js';

const normalizer = testNormalizer();
const DOUBLE_OVERFLOW = '9'.repeat(400);

function normalised(parser: GatewayParser, record: RawRecord): ParseResult<AccessEvent> {
  const draft = parser.parse(record);
  return draft.ok && draft.event !== null ? normalizer.access(draft.event) : (draft as ParseResult<AccessEvent>);
}

function event(parser: GatewayParser, record: RawRecord): AccessEvent {
  const result = normalised(parser, record);
  if (!result.ok || result.event === null) throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return accessEventSchema.parse(result.event);
}

const json = (line: string, change: (record: JsonObject) => void): RawRecord => {
  const value = JSON.parse(line) as JsonObject;
  change(value);
  return { kind: 'json', value };
};
const text = (line: string): RawRecord => ({ kind: 'text', line });

const TYK_ANALYTICS = fixtureLines('tyk/samples.jsonl')[0]!;
const TYK_LOGFMT = fixtureLines('tyk/samples.logfmt')[0]!;
const NGINX_UPSTREAMINFO = fixtureLines('nginx/samples.txt')[5]!;
const NGINX_JSON = fixtureLines('nginx/samples.txt')[10]!;

describe('start time computed as the logged end minus the logged latency', () => {
  it('a fractional latency gives a start in whole milliseconds', () => {
    const start = event(tykParser, json(TYK_ANALYTICS, (r) => ((r.latency as JsonObject).total = 1.5))).ts;
    const whole = event(tykParser, json(TYK_ANALYTICS, (r) => ((r.latency as JsonObject).total = 2))).ts;
    expect(start).toBe(whole + 1);
  });

  it.each([
    ['a tyk analytics latency.total', tykParser, json(TYK_ANALYTICS, (r) => ((r.latency as JsonObject).total = -1e300))],
    ['a tyk analytics latency.total', tykParser, json(TYK_ANALYTICS, (r) => ((r.latency as JsonObject).total = 1e300))],
    ['a tyk access-log latency_total', tykParser, text(TYK_LOGFMT.replace('latency_total=62', 'latency_total=-1e300'))],
    ['an nginx JSON request_time', nginxParser, json(NGINX_JSON, (r) => (r.request_time = -1e300))],
    ['an nginx JSON request_time', nginxParser, json(NGINX_JSON, (r) => (r.request_time = Number.MAX_VALUE))],
    ['an nginx upstreaminfo request_time', nginxParser, text(NGINX_UPSTREAMINFO.replace(' 0.001 ', ` ${DOUBLE_OVERFLOW} `))],
  ] as const)('%s that is negative or reaches before 1970 is rejected, not moved out of the epoch range', (_name, parser, record) => {
    expect(normalised(parser, record)).toMatchObject({ ok: false, reason: 'invalid_field', detail: expect.stringContaining('not a request duration') });
  });
});

describe('latency logged as a number no double holds', () => {
  it.each([
    ['a kong latencies.request', kongParser, json(fixtureLines('kong/samples.jsonl')[0]!, (r) => ((r.latencies as JsonObject).request = Number.MAX_VALUE))],
    ['a traefik CLF duration', traefikParser, text(fixtureLines('traefik/samples.txt')[0]!.replace(/1ms$/, `${DOUBLE_OVERFLOW}ms`))],
    ['an envoy default-format duration', envoyParser, text(fixtureLines('envoy/samples.txt')[0]!.replace(' 226 100 ', ` ${DOUBLE_OVERFLOW} 100 `))],
  ] as const)('%s that overflows to Infinity is an unknown latency, not an event the schema refuses', (_name, parser, record) => {
    expect(event(parser, record).latencyMs).toBeNull();
  });
});
