// The parser conformance suite (STYLE.md, Tests): every parser of the registry, gateway and IdP, and
// the canonical access parser pass the same checks, generated from the registry so a new parser is
// covered once registered. Consumes the documented samples of test/fixtures/<format>/samples.* (the
// canonical formats, which have none, take the events the other parsers make of theirs) and hostile
// variants of them (test/helpers/mutations.ts). Holds each parser to: samples parse; bad input never
// throws and ends in an event its schema accepts, a skip, or a DLQ reason; detect() never throws;
// the same record parses to the same result twice.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { accessEventSchema, tokenEventSchema } from '../../ingest/model.js';
import { DLQ_REASONS, SKIP_REASONS, fail, type ParseResult } from '../../ingest/parse-result.js';
import { isObject } from '../../ingest/fields.js';
import { lineRecords } from '../../ingest/line.js';
import { AccessRecordParser, GATEWAY_PARSERS, IDP_PARSERS } from '../../ingest/parsers/registry.js';
import { detectCanonicalAccess } from '../../ingest/parsers/canonical.js';
import type { AccessDraft, RawRecord } from '../../ingest/parsers/types.js';
import { testNormalizer } from '../helpers/ingest.js';
import { fieldMutations, lineMutations, type Mutation } from '../helpers/mutations.js';

/** The ingest default (cli/ingest-setup.ts), so a 100 KB field reaches the parser. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Failures listed per test; the count says how many there were in all. */
const SHOWN = 12;

/** One documented input line and where it came from (`kong/samples.jsonl:3`). */
interface Sample {
  where: string;
  line: string;
}

/** One parser under test, reduced to what the checks need. */
interface Subject {
  name: string;
  /** Where its samples come from, for the failure message of a parser without any. */
  source: string;
  samples: () => Sample[];
  /** Gateway formats read text lines too; IdP events are JSON only. */
  readsText: boolean;
  detect(record: RawRecord): boolean;
  /** The parser's own result. */
  parse(record: RawRecord): ParseResult<unknown>;
  /** The event the pipeline makes of a parsed one (a gateway draft is normalised); null when the parser's is final. */
  finish: ((event: unknown) => ParseResult<unknown>) | null;
  /** The schema every event that comes out must pass. */
  schema: z.ZodType;
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** The lines of test/fixtures/<format>/samples.*, blank lines dropped; none when the folder is missing. */
function fixtureSamples(format: string): Sample[] {
  const dir = new URL(`${format}/`, FIXTURES);
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.startsWith('samples.')).sort();
  return files.flatMap((file) =>
    readFileSync(new URL(file, dir), 'utf8')
      .split('\n')
      .map((line, i) => ({ where: `${format}/${file}:${i + 1}`, line }))
      .filter((s) => s.line.trim().length > 0),
  );
}

/** `load`, run once on first call: fixtures are read and canonical samples derived once per run. */
function once<T>(load: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: load() }).v;
}

/** The records one line holds, as the ingest reads them. */
function recordsOf(line: string | Buffer): RawRecord[] {
  const split = lineRecords(Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'), false, MAX_LINE_BYTES);
  return split.ok ? split.records : [];
}

/**
 * The events `subjects` make of their samples, as canonical JSON lines, one per shape (keys, nesting,
 * which values are null): the canonical parsers validate a schema, so their branches follow the
 * shape, not the values, and the field variants of two samples of one shape would be the same.
 */
function derivedSamples(subjects: Subject[]): Sample[] {
  const shapes = new Set<string>();
  return subjects.flatMap((s) =>
    s.samples().flatMap((sample) =>
      recordsOf(sample.line).flatMap((record) => {
        const final = run(s, record).results.at(-1);
        if (!final?.ok || final.event === null) return [];
        const shape = JSON.stringify(shapeOf(final.event));
        if (shapes.has(shape)) return [];
        shapes.add(shape);
        return [{ where: `${sample.where} as canonical`, line: JSON.stringify(final.event) }];
      }),
    ),
  );
}

/** `value` with every non-null leaf replaced by its type name. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return value === null ? null : typeof value;
}

const normalizer = testNormalizer();

const GATEWAYS: Subject[] = GATEWAY_PARSERS.map((p) => ({
  name: p.format,
  source: `test/fixtures/${p.format}/samples.*`,
  samples: once(() => fixtureSamples(p.format)),
  readsText: true,
  detect: (record) => p.detect(record),
  parse: (record) => p.parse(record),
  finish: (draft) => normalizer.access(draft as AccessDraft),
  schema: accessEventSchema,
}));

const canonicalAccess = new AccessRecordParser(normalizer, 'canonical');
const CANONICAL_ACCESS: Subject = {
  name: 'canonical access',
  source: 'the AccessEvents the gateway parsers make of their samples',
  samples: once(() => derivedSamples(GATEWAYS)),
  readsText: true,
  detect: (record) => record.kind === 'json' && detectCanonicalAccess(record.value),
  parse: (record) => canonicalAccess.parse(record),
  finish: null,
  schema: accessEventSchema,
};

// The canonical TokenEvent format is what the other IdP parsers emit: their events are its samples.
const CANONICAL_TOKEN_EVENT = 'canonical token event';
const IDPS: Subject[] = IDP_PARSERS.map((p) => {
  const derived = p.format === 'canonical';
  return {
    name: derived ? CANONICAL_TOKEN_EVENT : p.format,
    source: derived ? 'the TokenEvents the other IdP parsers make of their samples' : `test/fixtures/${p.format}/samples.*`,
    samples: once(() => [...fixtureSamples(p.format), ...(derived ? derivedSamples(IDPS.filter((s) => s.name !== CANONICAL_TOKEN_EVENT)) : [])]),
    readsText: false,
    detect: (record) => record.kind === 'json' && p.detect(record.value),
    parse: (record) => (record.kind === 'json' ? p.parse(record.value) : fail('format_mismatch', 'IdP events are JSON records')),
    finish: null,
    schema: tokenEventSchema,
  };
});

const SUBJECTS: Subject[] = [...GATEWAYS, CANONICAL_ACCESS, ...IDPS];

/** What is wrong with `result` as a ParseResult, or null. `schema` checks the event when given. */
function malformed(result: unknown, schema: z.ZodType | null): string | null {
  if (!isObject(result)) return `not a result: ${String(result)}`;
  const keys = Object.keys(result).sort().join(',');
  if (result.ok === false) {
    if (keys !== 'detail,ok,reason') return `a rejection with keys ${keys}`;
    if (!(DLQ_REASONS as readonly unknown[]).includes(result.reason)) return `reason ${JSON.stringify(result.reason)} is not a DLQ reason`;
    return typeof result.detail === 'string' ? null : 'a rejection whose detail is not a string';
  }
  if (result.ok !== true) return `ok is ${JSON.stringify(result.ok)}`;
  if (result.event === null) {
    if (keys !== 'detail,event,ok,skipped') return `a skip with keys ${keys}`;
    if (!(SKIP_REASONS as readonly unknown[]).includes(result.skipped)) return `a skip with reason ${String(result.skipped)} outside SKIP_REASONS`;
    return typeof result.detail === 'string' ? null : 'a skip whose detail is not a string';
  }
  if (keys !== 'event,ok') return `an event result with keys ${keys}`;
  if (!schema) return null;
  const checked = schema.safeParse(result.event);
  if (checked.success) return null;
  const issue = checked.error.issues[0]!;
  return `an event that fails its schema at ${issue.path.join('.') || '(event)'}: ${issue.message}`;
}

/** What `subject` made of one record: the parser's result and, for a gateway event, the normalised one. */
interface Run {
  /** What is wrong, or null. */
  problem: string | null;
  results: ParseResult<unknown>[];
}

/** Parses `record` with `subject` (and finishes the event as the pipeline does), and judges the result. */
function run(subject: Subject, record: RawRecord): Run {
  let result: ParseResult<unknown>;
  try {
    result = subject.parse(record);
  } catch (err) {
    return { problem: `parse threw ${String(err)}`, results: [] };
  }
  const own = malformed(result, subject.finish ? null : subject.schema);
  if (own || !subject.finish || !result.ok || result.event === null) return { problem: own, results: [result] };
  let final: ParseResult<unknown>;
  try {
    final = subject.finish(result.event);
  } catch (err) {
    return { problem: `normalising the draft threw ${String(err)}`, results: [result] };
  }
  return { problem: malformed(final, subject.schema), results: [result, final] };
}

/** The JSON samples of `subject` with one field replaced or deleted. */
function* fieldVariants(subject: Subject): Generator<Mutation<RawRecord> & { where: string }> {
  for (const sample of subject.samples()) {
    for (const record of recordsOf(sample.line)) {
      if (record.kind !== 'json') continue;
      for (const m of fieldMutations(record.value)) yield { where: sample.where, what: m.what, value: { kind: 'json', value: m.value } };
    }
  }
}

/** The raw lines of `subject`'s samples truncated, byte-flipped and with hostile characters inserted. */
function* lineVariants(subject: Subject): Generator<Mutation<Buffer> & { where: string }> {
  let seed = 0x5eed;
  for (const sample of subject.samples()) {
    for (const m of lineMutations(sample.line, seed++)) yield { where: sample.where, ...m };
  }
}

/** The records a mutated line reaches a parser as: through the ingest's line checks, and as text directly. */
function lineRecordsFor(subject: Subject, bytes: Buffer): RawRecord[] {
  const records = recordsOf(bytes);
  return subject.readsText ? [...records, { kind: 'text', line: bytes.toString('utf8') }] : records;
}

interface Hostile {
  where: string;
  what: string;
  record: RawRecord;
}

/** The documented samples of every other format, as `subject` would be handed them. */
function* otherFormats(subject: Subject): Generator<Hostile> {
  for (const other of SUBJECTS) {
    if (other === subject) continue;
    for (const sample of other.samples()) {
      for (const record of [...recordsOf(sample.line), { kind: 'text' as const, line: sample.line }]) {
        if (subject.readsText || record.kind === 'json') yield { where: sample.where, what: `a ${other.name} sample`, record };
      }
    }
  }
}

/** What one sweep over every record `subject` is handed found, by check. */
interface Findings {
  fields: string[];
  lines: string[];
  others: string[];
  detect: string[];
  determinism: string[];
}

/**
 * Hands `subject` its documented samples, their field and line variants and the other formats'
 * samples, once: each record is parsed twice (determinism), judged, and given to detect().
 */
function sweep(subject: Subject): Findings {
  const found: Findings = { fields: [], lines: [], others: [], detect: [], determinism: [] };
  const visit = (h: Hostile, check: 'fields' | 'lines' | 'others' | null): void => {
    const at = `${h.where} ${h.what}${h.record.kind === 'text' ? ' (as a text record)' : ''}`;
    const before = h.record.kind === 'json' ? structuredClone(h.record.value) : null;
    const first = run(subject, h.record);
    if (first.problem && check) found[check].push(`${at}: ${first.problem}`);
    const second = run(subject, h.record);
    if (!first.problem && !isDeepStrictEqual(first.results, second.results)) found.determinism.push(`${at}: two parses differ`);
    if (before && h.record.kind === 'json' && !isDeepStrictEqual(h.record.value, before)) found.determinism.push(`${at}: parsing changed the record`);
    try {
      const answer: unknown = subject.detect(h.record);
      if (typeof answer !== 'boolean') found.detect.push(`${at}: detect answered ${String(answer)}`);
    } catch (err) {
      found.detect.push(`${at}: detect threw ${String(err)}`);
    }
  };
  for (const sample of subject.samples()) for (const record of recordsOf(sample.line)) visit({ where: sample.where, what: 'as documented', record }, null);
  for (const v of fieldVariants(subject)) visit({ where: v.where, what: `with ${v.what}`, record: v.value }, 'fields');
  for (const v of lineVariants(subject)) {
    try {
      const split = lineRecords(v.value, false, MAX_LINE_BYTES);
      if (!split.ok && !(DLQ_REASONS as readonly string[]).includes(split.reason)) found.lines.push(`${v.where} ${v.what}: line reason ${split.reason}`);
    } catch (err) {
      found.lines.push(`${v.where} ${v.what}: the line checks threw ${String(err)}`);
    }
    for (const record of lineRecordsFor(subject, v.value)) visit({ where: v.where, what: v.what, record }, 'lines');
  }
  for (const h of otherFormats(subject)) visit(h, 'others');
  return found;
}

/** Fails with the first SHOWN problems and their count. */
function expectNone(problems: string[]): void {
  expect(problems.slice(0, SHOWN), `${problems.length} problems`).toEqual([]);
}

for (const subject of SUBJECTS) {
  describe(`${subject.name} parser conformance`, () => {
    const findings = once(() => sweep(subject));

    it(`has documented samples (${subject.source})`, () => {
      expect(subject.samples().length).toBeGreaterThan(0);
    });

    it('parses every documented sample to an event its schema accepts, or to a counted skip', () => {
      const problems: string[] = [];
      for (const sample of subject.samples()) {
        const split = lineRecords(Buffer.from(sample.line, 'utf8'), false, MAX_LINE_BYTES);
        if (!split.ok) problems.push(`${sample.where}: the line is rejected before parsing (${split.reason})`);
        for (const record of split.ok ? split.records : []) {
          const { problem, results } = run(subject, record);
          const last = results[results.length - 1];
          if (problem) problems.push(`${sample.where}: ${problem}`);
          else if (last && !last.ok) problems.push(`${sample.where}: rejected as ${last.reason}: ${last.detail}`);
        }
      }
      expectNone(problems);
    });

    it('never throws on a sample with one field replaced by a hostile value or deleted, and returns a result the DLQ understands', () => {
      expectNone(findings().fields);
    });

    it('never throws on a sample line truncated, with bytes flipped or hostile characters inserted, and returns a result the DLQ understands', () => {
      expectNone(findings().lines);
    });

    it('never throws on the documented samples of every other format, and returns a result the DLQ understands', () => {
      expectNone(findings().others);
    });

    it('detect never throws on a hostile record and answers a boolean', () => {
      expectNone(findings().detect);
    });

    it('parses the same record twice to deep-equal results and leaves the record unchanged', () => {
      expectNone(findings().determinism);
    });
  });
}
