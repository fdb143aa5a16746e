// Headers logged as top-level fields of their own: NGINX's $http_<name> / $sent_http_<name> /
// $upstream_http_<name> keys, Traefik's request_<Name> / downstream_<Name> / origin_<Name>.
// A format names the rules (which key is which header, which values mean "not logged"); the
// headers of a record are read by one loop over its keys, or, for a record whose key list the
// shape decoder knows, by a function compiled once for that key list: straight-line reads and
// one object literal per side, where the loop pays a keyed store per header.
import type { JsonObject } from '../fields.js';
import type { AccessDraft } from './types.js';

/** Where a field's value goes. */
export interface HeaderField {
  side: 'request' | 'response';
  /** The header name, lower case. */
  name: string;
  /** Of two response fields with one name, the higher rank wins (what the client got over what the backend sent); at one rank, the later field. */
  rank: number;
}

export interface HeaderRules {
  /** The header a key logs, or null (a core field). Called once per key list compiled, or per key read. */
  field(key: string): HeaderField | null;
  /** Values that mean the header was not logged (besides non-strings): a few short ones, compared in turn. */
  unset: readonly string[];
  /** Whether an Authorization field that is logged but unset means the client sent no credential. */
  unsetAuthorizationIsNone: boolean;
  /** The value that hides a header but shows it was sent (then an Authorization was presented); null if none. */
  redacted: string | null;
}

type Reader = (o: JsonObject, d: AccessDraft) => void;

/** The header fields of one format's records. */
export class HeaderFields {
  // Readers by key list. Key lists come from the shape decoder, which keeps a few per stream: a
  // dropped list takes its reader with it. The last one answers first, without hashing.
  private readonly readers = new WeakMap<readonly string[], Reader>();
  private lastKeys: readonly string[] | null = null;
  private lastReader: Reader | null = null;

  constructor(private readonly rules: HeaderRules) {}

  /**
   * Sets `d.requestHeaders`, `d.responseHeaders` and, when the record tells, `d.tokenPresented` from
   * the header fields of `o`. `keys` is the record's key list when its decoder knows it.
   */
  read(o: JsonObject, d: AccessDraft, keys: readonly string[] | undefined): void {
    if (keys === undefined) return loop(o, d, this.rules);
    if (keys !== this.lastKeys) {
      let reader = this.readers.get(keys);
      if (reader === undefined) this.readers.set(keys, (reader = compile(keys, this.rules)));
      this.lastKeys = keys;
      this.lastReader = reader;
    }
    this.lastReader!(o, d);
  }
}

function loop(o: JsonObject, d: AccessDraft, rules: HeaderRules): void {
  const request: Record<string, string> = {};
  const response: Record<string, string> = {};
  // The rank each response header was set at.
  let ranks: Record<string, number> | null = null;
  for (const key in o) {
    const f = header(rules, key);
    if (f === null) continue;
    const v = o[key];
    if (typeof v !== 'string' || rules.unset.includes(v)) {
      if (rules.unsetAuthorizationIsNone && f.side === 'request' && f.name === 'authorization') d.tokenPresented = false;
      continue;
    }
    if (v === rules.redacted) {
      if (f.side === 'request' && f.name === 'authorization') d.tokenPresented = true;
      continue;
    }
    if (f.side === 'request') request[f.name] = v;
    else if (!((ranks ??= {})[f.name]! > f.rank)) {
      response[f.name] = v;
      ranks[f.name] = f.rank;
    }
  }
  d.requestHeaders = request;
  d.responseHeaders = response;
}

/**
 * The reader of records with the key list `keys`: for each header field, in key order (response
 * fields by rank, then key order, so that the winner is written last), a read and a test, into
 * object literals that hold every header the list can log. A header the record leaves unset stays
 * undefined, which readers of a draft take as absent. Only keys and header names reach the code,
 * each as a JSON string literal.
 */
function compile(keys: readonly string[], rules: HeaderRules): Reader {
  const fields = keys.map((key, i) => ({ key, i, f: header(rules, key) })).filter((x) => x.f !== null) as Array<{ key: string; i: number; f: HeaderField }>;
  const request = fields.filter((x) => x.f.side === 'request');
  const response = fields.filter((x) => x.f.side === 'response').sort((a, b) => a.f.rank - b.f.rank || a.i - b.i);
  const q = JSON.stringify;
  const literal = (side: typeof fields): string => `{${[...new Set(side.map((x) => x.f.name))].map((n) => `${q(n)}: undefined`).join(', ')}}`;
  const statements = (target: string, side: typeof fields): string[] =>
    side.map(({ key, f }) => {
      const authorization = f.side === 'request' && f.name === 'authorization';
      const whenUnset = authorization && rules.unsetAuthorizationIsNone ? ' else d.tokenPresented = false;' : '';
      const redacted = rules.redacted === null ? '' : ` if (v === r) { ${authorization ? 'd.tokenPresented = true; ' : ''}} else`;
      const set = rules.unset.map((x) => ` && v !== ${q(x)}`).join('');
      return `v = o[${q(key)}]; if (typeof v === 'string'${set}) {${redacted} ${target}[${q(f.name)}] = v; }${whenUnset}`;
    });
  const body = [
    'let v;',
    `const rq = ${literal(request)};`,
    `const rs = ${literal(response)};`,
    ...statements('rq', request),
    ...statements('rs', response),
    'd.requestHeaders = rq;',
    'd.responseHeaders = rs;',
  ].join('\n');
  const make = new Function('r', `return function (o, d) {\n${body}\n};`) as (r: string | null) => Reader;
  return make(rules.redacted);
}

/** The header `key` logs; never `__proto__`, which an object literal would take for its prototype. */
function header(rules: HeaderRules, key: string): HeaderField | null {
  const f = rules.field(key);
  return f === null || f.name === '__proto__' ? null : f;
}
