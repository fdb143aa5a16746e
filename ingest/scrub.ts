// Removes token material from text that leaves ingest: the DLQ copy of a bad line and
// request paths. Knows the places tokens hide (Authorization / API-key headers, Bearer
// values, JWTs anywhere, OAuth query parameters) and also erases any raw token the
// parser already extracted from the same record, wherever it appears.

const REDACTED = '[redacted]';

// A JWT (or its first segments when truncated): base64url JSON header starting `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
const BEARER = /\b(Bearer|DPoP|Token|Basic|ApiKey)(\s+|%20|\+)[^\s"',;&\\]+/gi;
// OAuth 2.0 / RFC 6750 section 2.3 query parameters, and the usual API-key parameters.
const QUERY_SECRET =
  /([?&;]|\b)(access_token|oauth_token|id_token|refresh_token|token|jwt|api_?key|apikey|key|code|client_secret|password)=([^&\s"'#\\]*)/gi;
// JSON / logfmt / header-line fields whose value is a credential, closed or truncated.
const FIELD_SECRET =
  /("?(?:authorization|proxy-authorization|x-api-key|apikey|api_key|x-auth-token|cookie|set-cookie|access_token|refresh_token|id_token|token)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"?|(?:(?:Bearer|Basic|DPoP|Token|ApiKey)\s+)?[^\s,};"&]+)/gi;

/** `text` with every credential replaced by "[redacted]"; `secrets` are raw tokens known to be in it. */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join(REDACTED);
  return out
    .replace(FIELD_SECRET, (_m, key: string, value: string) => (value.startsWith('"') ? `${key}"${REDACTED}"` : `${key}${REDACTED}`))
    .replace(BEARER, (_m, scheme: string, sep: string) => `${scheme}${sep}${REDACTED}`)
    .replace(QUERY_SECRET, (_m, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(JWT_LIKE, REDACTED);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces C0 / C1 control characters (log-injection vectors) with U+FFFD. */
export function stripControls(v: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(v) ? v.replace(CONTROL, '\uFFFD') : v;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i;

/** A request path without its query string or fragment, token-like segments scrubbed. */
export function cleanPath(url: string, secrets: readonly string[]): string {
  let q = url.indexOf('?');
  const hash = url.indexOf('#');
  if (hash >= 0 && (q < 0 || hash < q)) q = hash;
  let path = q >= 0 ? url.slice(0, q) : url;
  // Absolute-form request targets (proxies, Tyk) carry scheme and authority.
  const abs = path.charCodeAt(0) === 47 ? null : ABSOLUTE_FORM.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  if (holdsJwtStart(path) || holdsSecret(path, secrets)) path = scrubText(path, secrets);
  return path;
}

// path.includes('eyJ'), the start of a JWT's JSON header, but several times cheaper in V8: a
// one-char search for the J (rare in paths) and a look behind it.
function holdsJwtStart(path: string): boolean {
  for (let j = path.indexOf('J', 2); j >= 0; j = path.indexOf('J', j + 1)) {
    if (path.charCodeAt(j - 1) === 121 && path.charCodeAt(j - 2) === 101) return true;
  }
  return false;
}

function holdsSecret(path: string, secrets: readonly string[]): boolean {
  for (const s of secrets) if (s.length >= 8 && s.length <= path.length && path.includes(s)) return true;
  return false;
}
