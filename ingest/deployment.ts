// Which service, version and release track served a request. Response headers win
// (x-deployment-version / x-deployment-track by default, configurable per gateway);
// otherwise the names the gateway routes by: an Istio subset in the upstream cluster
// (`outbound|9080|v2|reviews.default.svc.cluster.local`) or a -canary / -blue / -green /
// -stable suffix on the upstream or service name.
import { z } from 'zod';
import type { Deployment, Track } from './model.js';
import { TRACKS } from './model.js';

export const deploymentConfigSchema = z
  .object({
    /** Response header carrying the version. Default `x-deployment-version`. */
    versionHeader: z.string().min(1).default('x-deployment-version'),
    /** Response header carrying the track (stable | canary | blue | green). Default `x-deployment-track`. */
    trackHeader: z.string().min(1).default('x-deployment-track'),
  })
  .strict();
export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;

export interface DeploymentHints {
  responseHeaders: Record<string, string>;
  /** Version / track the record names itself, below the response headers. */
  version: string | null;
  track: Track | null;
  service: string | null;
  upstream: string | null;
  route: string | null;
  host: string | null;
}

const TRACK_SET: ReadonlySet<string> = new Set(TRACKS);
const SUFFIX = /^(.+?)[-_.](stable|canary|blue|green)$/i;
// Envoy cluster names: direction|port|subset|fqdn (Istio); the subset is the version.
const ISTIO_CLUSTER = /^(?:outbound|inbound)\|\d*\|([^|]*)\|([^|]+)$/;
const VERSION_SUFFIX = /^(.+?)[-_](v\d+(?:[.-]\d+)*)$/i;
const URL_SCHEME = /^[a-z]+:\/\//i;

/** The deployment of one request; fields the record does not reveal stay null. */
export function inferDeployment(h: DeploymentHints, config: DeploymentConfig): Deployment {
  let service: string | null = null;
  let version = h.responseHeaders[config.versionHeader] ?? h.version;
  let track = asTrack(h.responseHeaders[config.trackHeader]) ?? h.track;

  const upstream = h.upstream ? stripKubernetes(h.upstream) : null;
  const istio = h.upstream ? ISTIO_CLUSTER.exec(h.upstream) : null;
  if (istio) {
    service = istio[2]!.split('.')[0]!;
    const subset = istio[1]!;
    const subsetTrack = SUFFIX.exec(subset);
    if (asTrack(subset)) track ??= asTrack(subset);
    else if (subsetTrack) {
      track ??= asTrack(subsetTrack[2]);
      version ??= subsetTrack[1]!;
    } else if (subset) version ??= subset;
  }

  for (const name of [h.service, upstream, h.route]) {
    if (!name) continue;
    const m = SUFFIX.exec(name);
    if (m) {
      track ??= asTrack(m[2]);
      service ??= m[1]!;
    }
  }
  service ??= h.service ?? upstream ?? (h.host ? h.host.replace(/:\d+$/, '') : null);
  if (service) {
    const v = VERSION_SUFFIX.exec(service);
    if (v && version === null) {
      version = v[2]!;
      service = v[1]!;
    }
  }
  return { service, version, track };
}

/**
 * `route` as far as inferDeployment reads it: a route tells something only when it ends in a track
 * suffix. A cache of inferences keyed by this, not by every route, stays small when routes are many
 * (a path logged as the route).
 */
export function routeHint(route: string | null): string | null {
  if (route === null) return null;
  // stable and blue end in e, canary in y, green in n, each after a separator: the last char and
  // the one before the track word spare nearly every route the regex, which stays the judge.
  const n = route.length;
  const last = route.charCodeAt(n - 1) | 0x20;
  const suffixed =
    last === 0x65 ? isSeparator(route, n - 7) || isSeparator(route, n - 5) : last === 0x79 ? isSeparator(route, n - 7) : last === 0x6e && isSeparator(route, n - 6);
  return suffixed && SUFFIX.test(route) ? route : null;
}

/**
 * `upstream` as far as inferDeployment reads it: of a URL (Tyk logs upstream_addr with the request
 * path), the scheme and authority. A string that opens with a scheme is no Istio cluster name, and
 * stripKubernetes keeps only its authority.
 */
export function upstreamHint(upstream: string | null): string | null {
  if (upstream === null) return null;
  const sep = upstream.indexOf('://');
  const slash = sep > 0 ? upstream.indexOf('/', sep + 3) : -1;
  return slash > 0 && URL_SCHEME.test(upstream) ? upstream.slice(0, slash) : upstream;
}

/** Whether `s` holds - _ or . at `i`, with at least one char before it (SUFFIX's `.+?`). */
function isSeparator(s: string, i: number): boolean {
  if (i < 1) return false;
  const c = s.charCodeAt(i);
  return c === 0x2d || c === 0x5f || c === 0x2e;
}

function asTrack(v: string | undefined | null): Track | null {
  const t = v?.toLowerCase();
  return t && TRACK_SET.has(t) ? (t as Track) : null;
}

// Upstream values arrive as URLs or host:port (`http://orders-canary:8080`, `default-orders-canary-80`):
// keep the name part only.
function stripKubernetes(upstream: string): string {
  let u = upstream.replace(URL_SCHEME, '');
  u = u.split('/')[0]!.split(',')[0]!.trim();
  const colon = u.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(u.slice(colon + 1)) && !u.includes('|')) u = u.slice(0, colon);
  // ingress-nginx upstream names: <namespace>-<service>-<port>
  u = u.replace(/-\d+$/, '');
  return u.split('.')[0]!;
}
