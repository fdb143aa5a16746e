// Every gateway and IdP parser, and the per-record dispatch behind `--format auto`:
// each record goes to the first parser whose detect() claims it (the detectors are
// mutually exclusive over the documented samples; a test holds them to it).
import type { AccessEvent, GatewayFormat, IdpFormat, TokenEvent } from '../model.js';
import type { GatewayParser, IdpParser, RawRecord } from './types.js';
import { fail, type ParseResult } from '../parse-result.js';
import type { Normalizer } from '../normalize.js';
import { detectCanonicalAccess, parseCanonicalAccess } from './canonical.js';
import { kongParser } from './kong.js';
import { tykParser } from './tyk.js';
import { awsApigwParser } from './aws-apigw.js';
import { traefikParser } from './traefik.js';
import { envoyParser } from './envoy.js';
import { nginxParser } from './nginx.js';
import { keycloakParser } from './keycloak.js';
import { auth0Parser } from './auth0.js';
import { oktaParser } from './okta.js';
import { canonicalTokenEventParser } from './canonical-token-event.js';

/** Gateway parsers in detection order: most distinctive keys first, NGINX's free-form JSON last. */
export const GATEWAY_PARSERS: readonly GatewayParser[] = [kongParser, tykParser, awsApigwParser, traefikParser, envoyParser, nginxParser];
/** IdP parsers in detection order. */
export const IDP_PARSERS: readonly IdpParser[] = [keycloakParser, auth0Parser, oktaParser, canonicalTokenEventParser];

export type AccessFormat = GatewayFormat | 'auto';
export type IdpFormatOption = IdpFormat | 'auto';

/** Parses gateway records of one fixed format, or of any format detected per record. */
export class AccessRecordParser {
  private readonly fixed: GatewayParser | null;
  private last: GatewayParser | null = null;

  constructor(
    private readonly normalizer: Normalizer,
    readonly format: AccessFormat,
  ) {
    this.fixed = format === 'auto' || format === 'canonical' ? null : GATEWAY_PARSERS.find((p) => p.format === format)!;
  }

  /** The AccessEvent of one record, or why there is none. */
  parse(record: RawRecord): ParseResult<AccessEvent> {
    if (this.format === 'canonical' || (this.format === 'auto' && record.kind === 'json' && detectCanonicalAccess(record.value))) {
      return record.kind === 'json' ? parseCanonicalAccess(record.value) : fail('format_mismatch', 'canonical input must be JSON');
    }
    const parser = this.fixed ?? this.detect(record);
    if (!parser) return unknown(record, 'no gateway format recognises this record');
    const draft = parser.parse(record);
    return draft.ok && draft.event ? this.normalizer.access(draft.event) : (draft as ParseResult<AccessEvent>);
  }

  /** The parser `auto` picks for `record`, or null. */
  detect(record: RawRecord): GatewayParser | null {
    // Inputs are usually one format throughout: ask the previous winner first.
    if (this.last?.detect(record)) return this.last;
    const found = GATEWAY_PARSERS.find((p) => p !== this.last && p.detect(record)) ?? null;
    if (found) this.last = found;
    return found;
  }
}

/** Parses IdP records of one fixed format, or of any format detected per record. */
export class TokenEventRecordParser {
  private readonly fixed: IdpParser | null;

  constructor(readonly format: IdpFormatOption) {
    this.fixed = format === 'auto' ? null : IDP_PARSERS.find((p) => p.format === format)!;
  }

  /** The TokenEvent of one record, a skip for records without a token event, or why there is none. */
  parse(record: RawRecord): ParseResult<TokenEvent> {
    if (record.kind !== 'json') return fail('format_mismatch', 'IdP events are JSON records');
    const parser = this.fixed ?? IDP_PARSERS.find((p) => p.detect(record.value));
    if (!parser) return unknown(record, 'no IdP format recognises this record');
    return parser.parse(record.value);
  }
}

function unknown(record: RawRecord, detail: string): ParseResult<never> {
  return fail('unknown_format', record.kind === 'json' ? detail : `${detail} (text line)`);
}
