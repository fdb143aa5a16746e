// `--format auto` picks the right parser for every documented sample and every generated
// record of every format; IdP auto detection likewise.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AccessRecordParser, GATEWAY_PARSERS, IDP_PARSERS, TokenEventRecordParser } from '../../ingest/parsers/registry.js';
import { GATEWAY_RENDERERS, IDP_RENDERERS } from '../../ingest/generator/formats/index.js';
import { generateTraffic } from '../../ingest/generator/traffic.js';
import { lineRecords } from '../../ingest/line.js';
import type { RawRecord } from '../../ingest/parsers/types.js';
import { accessEventSchema, tokenEventSchema } from '../../ingest/model.js';
import { fixtureLines, fpOf, testNormalizer } from '../helpers/ingest.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

function records(line: string): RawRecord[] {
  const split = lineRecords(Buffer.from(line), false, 1 << 20);
  if (!split.ok) throw new Error(`fixture line rejected: ${split.reason}`);
  return split.records;
}

function sampleFiles(format: string): string[] {
  return readdirSync(`${FIXTURES}${format}`).filter((f) => f.startsWith('samples')).map((f) => `${format}/${f}`);
}

describe('auto detection over documented samples', () => {
  for (const parser of GATEWAY_PARSERS) {
    it(`claims every ${parser.format} sample for ${parser.format} and for no other format`, () => {
      const lines = sampleFiles(parser.format).flatMap(fixtureLines);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        for (const record of records(line)) {
          expect(GATEWAY_PARSERS.filter((p) => p.detect(record)).map((p) => p.format), line.slice(0, 120)).toEqual([parser.format]);
          const idpClaims = record.kind === 'json' ? IDP_PARSERS.filter((p) => p.detect(record.value)).map((p) => p.format) : [];
          expect(idpClaims, line.slice(0, 120)).toEqual([]);
        }
      }
    });
  }

  for (const parser of IDP_PARSERS.filter((p) => p.format !== 'canonical')) {
    it(`claims every ${parser.format} sample for ${parser.format} and for no gateway`, () => {
      const lines = sampleFiles(parser.format).flatMap(fixtureLines);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        for (const record of records(line)) {
          if (record.kind !== 'json') throw new Error('IdP samples are JSON');
          expect(IDP_PARSERS.filter((p) => p.detect(record.value)).map((p) => p.format), line.slice(0, 120)).toEqual([parser.format]);
          expect(GATEWAY_PARSERS.filter((p) => p.detect(record)).map((p) => p.format), line.slice(0, 120)).toEqual([]);
        }
      }
    });
  }
});

describe('auto detection over generated records', () => {
  const traffic = generateTraffic({ users: 40, durationMs: 5 * 60_000, seed: 7 });

  for (const renderer of GATEWAY_RENDERERS) {
    for (const variant of renderer.variants) {
      it(`reads generated ${renderer.format}/${variant} records back with the right fingerprints`, () => {
        const parser = new AccessRecordParser(testNormalizer(), 'auto');
        for (const req of traffic.requests) {
          const [record] = records(renderer.render(req, variant));
          expect(parser.detect(record!)?.format).toBe(renderer.format);
          const result = parser.parse(record!);
          if (!result.ok || !result.event) throw new Error(`${renderer.format}/${variant} rejected: ${JSON.stringify(result)}`);
          const event = accessEventSchema.parse(result.event);
          // Text formats log whole seconds (CLF, logfmt): the start time is then within a second.
          expect(Math.abs(event.ts - req.ts)).toBeLessThan(1000);
          expect(event.status).toBe(req.status);
          if (renderer.carriesAuthorization(variant) && req.rawToken && req.tokenIn === 'authorization') {
            expect(event.tokenFp).toBe(fpOf(req.rawToken));
            expect(event.claims?.jti).toMatch(/^jti-/);
          }
        }
      });
    }
  }

  for (const renderer of IDP_RENDERERS) {
    it(`reads generated ${renderer.format} token events back`, () => {
      const parser = new TokenEventRecordParser('auto');
      let parsed = 0;
      for (const ev of traffic.tokenEvents) {
        const [record] = records(renderer.render(ev));
        const result = parser.parse(record!);
        if (!result.ok) throw new Error(`${renderer.format} rejected: ${JSON.stringify(result)}`);
        if (!result.event) continue;
        const event = tokenEventSchema.parse(result.event);
        expect(event.idp).toBe(renderer.format);
        expect(event.type).toBe(ev.type);
        expect(event.ts).toBe(ev.ts);
        parsed++;
      }
      expect(parsed).toBe(traffic.tokenEvents.length);
    });
  }
});
