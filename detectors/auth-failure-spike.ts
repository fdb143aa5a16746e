// The auth_failure_spike detector. Consumes gateway AccessEvents, counted per minute of stream time
// per deployment (service, version, track); at each minute boundary emits one finding per incident
// when a version's auth-failure rate (invalid | malformed | missing, plus false expiries) rises
// significantly above its baseline: the stable track over the same minutes, else its own history.
// Bounded: a ring of minutes per deployment, idle deployments dropped, a hard cap on deployments.
import { z } from 'zod';
import type { AccessEvent, Deployment, Track } from '../ingest/model.js';
import { LifecycleStore } from '../lifecycle/store.js';
import type { StreamEvent } from '../lifecycle/stream-event.js';
import { loadConfig } from '../common/config.js';
import type { Detector } from './detector.js';
import { compact, findingId, iso, NONE, severityRank, type Finding, type Severity } from './finding.js';
import { compareProportions, type ProportionComparison } from './stats.js';

export const authFailureSpikeConfigSchema = z
  .object({
    /** Longest window an evaluation judges, minutes ending at the tick; the trailing 1..N minutes are each tried. Default 3. */
    windowMinutes: z.number().int().min(1).max(60).default(3),
    /** Minutes before the window that form a version's own-history baseline. Default 30. */
    historyMinutes: z.number().int().min(1).max(1440).default(30),
    /** One-sided significance level: a rise counts when its p-value is below it. Default 0.001. */
    significance: z.number().gt(0).lt(1).default(0.001),
    /** Smallest rise of the failure rate over the baseline, a fraction (0.05 = 5 percentage points). Default 0.05. */
    minEffect: z.number().min(0).max(1).default(0.05),
    /** Requests the version must serve in the window before it is judged at all. Default 30. */
    minRequests: z.number().int().min(1).default(30),
    /** Auth failures the version must have in the window before it is judged at all. Default 5. */
    minFailures: z.number().int().min(1).default(5),
    /** Requests a baseline (stable track in the window, or own history) needs to be used. Default 30. */
    minBaselineRequests: z.number().int().min(1).default(30),
    /** False expiries that, significant on their own, make a canary / green / blue finding critical. Default 3. */
    minFalseExpiries: z.number().int().min(1).default(3),
    /** Tolerated clock difference, ms: an `expired` rejection of a token whose exp is further ahead is a false expiry. Default 60000. */
    clockSkewMs: z.number().int().nonnegative().default(60_000),
    /** Consecutive non-significant evaluations (one per minute) that close an incident; a later rise is a new one. Default 5. */
    quietEvaluationsToClose: z.number().int().min(1).default(5),
    /** Stream time without requests after which a deployment's counts are dropped, ms. Default 3600000 (1 hour). */
    idleMs: z.number().int().positive().default(60 * 60_000),
    /** Hard cap on tracked (service, version, track) deployments; the least recently seen goes first. Default 1000. */
    maxDeployments: z.number().int().min(1).default(1000),
  })
  .strict();
export type AuthFailureSpikeConfig = z.output<typeof authFailureSpikeConfigSchema>;

/** The configuration used when none is given. */
export const authFailureSpikeDefaults: Readonly<AuthFailureSpikeConfig> = Object.freeze(authFailureSpikeConfigSchema.parse({}));

/** The detector, plus gauges of its bounded state. */
export interface AuthFailureSpikeDetector extends Detector {
  /** Deployments (service, version, track) currently counted. */
  readonly trackedDeployments: number;
  /** Events dropped because their minute had already left the counted span. */
  readonly lateEvents: number;
}

/** Where a version's baseline came from. */
export type BaselineKind = 'stable_track' | 'own_history';

const KIND = 'auth_failure_spike' satisfies Finding['kind'];
const MINUTE = 60_000;

/** An open incident of one deployment: its identity survives updates until it goes quiet. */
interface Incident {
  id: string;
  /** Minute number (epoch minutes) in which the rise began. */
  startMinute: number;
  detectedAt: number;
  severity: Severity;
  evaluations: number;
  quiet: number;
}

/** Per-minute counts of one deployment in a ring of minutes, as typed arrays. */
class Series {
  readonly minute: Float64Array;
  readonly requests: Uint32Array;
  readonly failures: Uint32Array;
  readonly falseExpiries: Uint32Array;
  readonly realExpiries: Uint32Array;
  /**
   * Minutes judged part of an incident, left out of the own-history baseline so a lasting regression
   * is not judged against itself. One that outlasts the whole history leaves no baseline and is no
   * longer judged: by then it has been reported for historyMinutes.
   */
  readonly anomalous: Uint8Array;
  /** Newest minute counted (epoch minutes). */
  newest = -Infinity;
  alive = true;
  incident: Incident | null = null;

  constructor(
    readonly service: string,
    readonly version: string | null,
    readonly track: Track,
    readonly ring: number,
    public lastSeen: number,
  ) {
    this.minute = new Float64Array(ring).fill(NaN);
    this.requests = new Uint32Array(ring);
    this.failures = new Uint32Array(ring);
    this.falseExpiries = new Uint32Array(ring);
    this.realExpiries = new Uint32Array(ring);
    this.anomalous = new Uint8Array(ring);
  }

  /** The ring slot of minute `m`, reset if it held an older minute; -1 when `m` has left the ring. */
  slotFor(m: number): number {
    if (m > this.newest) this.newest = m;
    else if (m <= this.newest - this.ring) return -1;
    const i = m % this.ring;
    if (this.minute[i] === m) return i;
    this.minute[i] = m;
    this.requests[i] = 0;
    this.failures[i] = 0;
    this.falseExpiries[i] = 0;
    this.realExpiries[i] = 0;
    this.anomalous[i] = 0;
    return i;
  }
}

/** Counts over a run of minutes, per minute and in total, summed over one or more deployments. */
class Span {
  readonly requests: number[];
  readonly failures: number[];
  readonly falseExpiries: number[];
  readonly realExpiries: number[];
  totalRequests = 0;
  totalFailures = 0;
  totalFalseExpiries = 0;
  totalRealExpiries = 0;
  /** Minutes left out because they belonged to an incident. */
  excludedIncidentMinutes = 0;

  constructor(
    readonly from: number,
    readonly length: number,
  ) {
    this.requests = new Array<number>(length).fill(0);
    this.failures = new Array<number>(length).fill(0);
    this.falseExpiries = new Array<number>(length).fill(0);
    this.realExpiries = new Array<number>(length).fill(0);
  }

  /** Adds the minutes of `s` this span covers; `skipAnomalous` leaves out minutes of past incidents. */
  add(s: Series, skipAnomalous: boolean): void {
    for (let j = 0; j < this.length; j++) {
      const m = this.from + j;
      const i = m % s.ring;
      if (s.minute[i] !== m) continue;
      if (skipAnomalous && s.anomalous[i] === 1) {
        this.excludedIncidentMinutes++;
        continue;
      }
      this.put(j, s.requests[i]!, s.failures[i]!, s.falseExpiries[i]!, s.realExpiries[i]!);
    }
  }

  /** The last `length` minutes of this span. */
  tail(length: number): Span {
    if (length === this.length) return this;
    const t = new Span(this.from + this.length - length, length);
    const off = this.length - length;
    for (let j = 0; j < length; j++) t.put(j, this.requests[off + j]!, this.failures[off + j]!, this.falseExpiries[off + j]!, this.realExpiries[off + j]!);
    return t;
  }

  private put(j: number, requests: number, failures: number, falseExpiries: number, realExpiries: number): void {
    this.requests[j]! += requests;
    this.failures[j]! += failures;
    this.falseExpiries[j]! += falseExpiries;
    this.realExpiries[j]! += realExpiries;
    this.totalRequests += requests;
    this.totalFailures += failures;
    this.totalFalseExpiries += falseExpiries;
    this.totalRealExpiries += realExpiries;
  }

  get rate(): number {
    return this.totalRequests === 0 ? 0 : this.totalFailures / this.totalRequests;
  }

  /** The counts as evidence: totals, rate and one row per minute. */
  evidence(): Record<string, unknown> {
    return {
      requests: this.totalRequests,
      failures: this.totalFailures,
      falseExpiries: this.totalFalseExpiries,
      realExpiries: this.totalRealExpiries,
      failureRate: this.rate,
      excludedIncidentMinutes: this.excludedIncidentMinutes,
      perMinute: this.requests.map((requests, j) => ({
        minute: iso((this.from + j) * MINUTE),
        requests,
        failures: this.failures[j]!,
        falseExpiries: this.falseExpiries[j]!,
        realExpiries: this.realExpiries[j]!,
      })),
    };
  }
}

/** Creates the auth_failure_spike detector; `config` is validated (a bad field is named) and frozen. */
export function createAuthFailureSpike(config: z.input<typeof authFailureSpikeConfigSchema> = {}): AuthFailureSpikeDetector {
  const c = loadConfig(authFailureSpikeConfigSchema, config, `detectors.${KIND}`);
  // The window, the history before it, the minute in progress and one minute of slack for a
  // tick that arrives after the first event of the next minute.
  const ring = c.windowMinutes + c.historyMinutes + 2;
  const series = new Map<string, Series>();
  /** (service, track) pairs whose requests name versions. */
  const versioned = new Set<string>();
  // Events of one deployment share one frozen Deployment object (ingest/normalize.ts caches
  // them), so the string key is built once per object instead of once per request.
  const byObject = new WeakMap<Deployment, Series | null>();
  let lastTick = -Infinity;
  let late = 0;

  function seriesOf(d: Deployment, ts: number): Series | null {
    const cached = byObject.get(d);
    if (cached === null || (cached !== undefined && cached.alive)) return cached;
    const resolved = resolve(d, ts);
    byObject.set(d, resolved);
    return resolved;
  }

  function resolve(d: Deployment, ts: number): Series | null {
    // Without a service there is nothing to compare with or roll back.
    if (d.service === null) return null;
    // A request that names no track is taken as stable: deployments that do not label
    // tracks serve everything from their one, stable, release.
    const track = d.track ?? 'stable';
    // Once a track's requests name versions, one without a version was answered before any
    // release saw it (a gateway auth plugin's 401 logs no upstream headers): it belongs to no
    // version, and counting it would make an all-failures "unknown version" series.
    const trackKey = `${d.service}\u0000${track}`;
    if (d.version === null && versioned.has(trackKey)) return null;
    if (d.version !== null && !versioned.has(trackKey)) {
      versioned.add(trackKey);
      drop(`${d.service}\u0000\u0000${track}`);
    }
    const key = `${d.service}\u0000${d.version ?? ''}\u0000${track}`;
    let s = series.get(key);
    if (s === undefined) {
      if (series.size >= c.maxDeployments) evictLeastRecent();
      s = new Series(d.service, d.version, track, ring, ts);
      series.set(key, s);
    }
    return s;
  }

  // A scan of at most maxDeployments entries, paid only when the cap is reached by a new
  // deployment: cheaper overall than keeping an LRU order on every request.
  function evictLeastRecent(): void {
    let oldestKey: string | null = null;
    let oldest = Infinity;
    for (const [key, s] of series) {
      if (s.lastSeen < oldest) {
        oldest = s.lastSeen;
        oldestKey = key;
      }
    }
    if (oldestKey !== null) drop(oldestKey);
  }

  function drop(key: string): void {
    const s = series.get(key);
    if (s === undefined) return;
    s.alive = false;
    series.delete(key);
  }

  function isFalseExpiry(e: AccessEvent, store: LifecycleStore): boolean {
    let exp = e.claims?.exp ?? NaN;
    if (Number.isNaN(exp)) {
      const slot = store.find(LifecycleStore.keyOf(e));
      if (slot >= 0) exp = store.tokens.exp[slot]!;
    }
    // Unknown exp (NaN) compares false: without proof the token was still valid it is a real expiry.
    return exp - e.ts > c.clockSkewMs;
  }

  function onEvent(event: StreamEvent, store: LifecycleStore): Finding[] {
    if (event.source !== 'access') return NONE;
    const e = event.event;
    const s = seriesOf(e.deployment, e.ts);
    if (s === null) return NONE;
    if (e.ts > s.lastSeen) s.lastSeen = e.ts;
    const i = s.slotFor(Math.floor(e.ts / MINUTE));
    if (i < 0) {
      late++;
      return NONE;
    }
    s.requests[i]!++;
    switch (e.authError) {
      case 'invalid':
      case 'malformed':
      case 'missing':
        s.failures[i]!++;
        break;
      case 'expired':
        // A wave of tokens that really expired together is the clients' business, not a
        // regression; rejecting a token that is still valid is the version's fault.
        if (isFalseExpiry(e, store)) {
          s.failures[i]!++;
          s.falseExpiries[i]!++;
        } else s.realExpiries[i]!++;
        break;
      default:
        // null and `revoked`: a revoked token is rightly refused.
        break;
    }
    return NONE;
  }

  function onTick(now: number): Finding[] {
    if (!(now > lastTick)) return [];
    lastTick = now;
    for (const [key, s] of series) if (now - s.lastSeen > c.idleMs) drop(key);
    const end = Math.floor(now / MINUTE);
    const from = end - c.windowMinutes;
    const stable = new Map<string, Span>();
    for (const s of series.values()) {
      if (s.track !== 'stable') continue;
      let span = stable.get(s.service);
      if (span === undefined) stable.set(s.service, (span = new Span(from, c.windowMinutes)));
      span.add(s, false);
    }
    const findings: Finding[] = [];
    for (const s of series.values()) {
      const f = evaluate(s, now, from, stable.get(s.service));
      if (f !== null) findings.push(f);
    }
    return findings;
  }

  function evaluate(s: Series, now: number, from: number, stable: Span | undefined): Finding | null {
    const judged = judge(s, from, stable);
    const incident = s.incident;
    if (judged === null) {
      if (incident !== null && ++incident.quiet >= c.quietEvaluationsToClose) s.incident = null;
      return null;
    }
    const { window, baseline, kind, rise, falseExpiry } = judged;
    const severity: Severity = s.track === 'stable' || !falseExpiry.significant ? 'high' : 'critical';
    let open = incident;
    if (open === null) {
      const startMinute = onsetMinute(window, baseline.rate);
      open = s.incident = {
        id: findingId(KIND, s.service, s.version, iso(startMinute * MINUTE)),
        startMinute,
        detectedAt: now,
        severity,
        evaluations: 0,
        quiet: 0,
      };
    }
    open.quiet = 0;
    open.evaluations++;
    // An update never lowers the severity an incident already reached.
    if (severityRank(severity) > severityRank(open.severity)) open.severity = severity;
    for (let m = Math.max(open.startMinute, from); m < from + c.windowMinutes; m++) {
      const i = m % s.ring;
      if (s.minute[i] === m) s.anomalous[i] = 1;
    }
    const rollback = s.track === 'canary' || s.track === 'green';
    const finding: Finding = {
      id: open.id,
      kind: KIND,
      severity: open.severity,
      action: rollback ? 'rollback' : 'alert',
      detectedAt: iso(open.detectedAt),
      firstEventAt: iso(open.startMinute * MINUTE),
      service: s.service,
      version: s.version ?? undefined,
      track: s.track,
      summary: summarize(s, window, baseline, kind, judged.pValue),
      evidence: {
        window: { from: iso(window.from * MINUTE), to: iso(now), minutes: window.length },
        windowsTried: c.windowMinutes,
        baselineKind: kind,
        baselineWindow: { from: iso(baseline.from * MINUTE), to: iso((baseline.from + baseline.length) * MINUTE), minutes: baseline.length },
        version: window.evidence(),
        baseline: baseline.evidence(),
        rise,
        test: judged.comparison.test,
        pValue: judged.pValue,
        uncorrectedPValue: judged.comparison.pValue,
        z: judged.comparison.z,
        minExpectedCount: judged.comparison.minExpected,
        falseExpiryTest: { test: falseExpiry.comparison.test, pValue: falseExpiry.comparison.pValue, significant: falseExpiry.significant },
        thresholds: {
          significance: c.significance,
          minEffect: c.minEffect,
          minRequests: c.minRequests,
          minFailures: c.minFailures,
          minBaselineRequests: c.minBaselineRequests,
          minFalseExpiries: c.minFalseExpiries,
          clockSkewMs: c.clockSkewMs,
        },
        evaluations: open.evaluations,
        lastEvaluatedAt: iso(now),
      },
    };
    return compact(finding);
  }

  /**
   * The most significant rise over the trailing 1..windowMinutes minutes, or null when none is
   * significant. Trying the shorter windows too catches a fresh regression before the longer
   * window dilutes it; their p-values are multiplied by the number tried (Bonferroni) so the
   * extra looks do not raise the false-alarm rate of an evaluation above `significance`.
   */
  function judge(s: Series, from: number, stable: Span | undefined) {
    const full = new Span(from, c.windowMinutes);
    full.add(s, false);
    // The guardrail: below the minimum sample nothing is said, let alone a rollback.
    if (full.totalRequests < c.minRequests || full.totalFailures < c.minFailures) return null;
    let baseline: Span;
    let kind: BaselineKind;
    if (s.track !== 'stable' && stable !== undefined && stable.totalRequests >= c.minBaselineRequests) {
      baseline = stable;
      kind = 'stable_track';
    } else {
      baseline = new Span(from - c.historyMinutes, c.historyMinutes);
      baseline.add(s, true);
      kind = 'own_history';
    }
    let best: { window: Span; baseline: Span; rise: number; comparison: ProportionComparison; pValue: number } | null = null;
    // Longest first: on a tie (both p-values underflow) the longer window, with more evidence, stays.
    for (let length = c.windowMinutes; length >= 1; length--) {
      const window = full.tail(length);
      // The stable track is compared over the same minutes; own history stays the minutes before the full window.
      const base = kind === 'stable_track' ? baseline.tail(length) : baseline;
      if (window.totalRequests < c.minRequests || window.totalFailures < c.minFailures || base.totalRequests < c.minBaselineRequests) continue;
      const rise = window.rate - base.rate;
      // A minimum effect keeps huge samples from flagging a statistically real but trivial rise.
      if (rise < c.minEffect) continue;
      const comparison = compareProportions(window.totalFailures, window.totalRequests, base.totalFailures, base.totalRequests);
      const pValue = Math.min(1, comparison.pValue * c.windowMinutes);
      if (best === null || pValue < best.pValue) best = { window, baseline: base, rise, comparison, pValue };
    }
    if (best === null || !(best.pValue < c.significance)) return null;
    const { window } = best;
    const feComparison = compareProportions(window.totalFalseExpiries, window.totalRequests, best.baseline.totalFalseExpiries, best.baseline.totalRequests);
    const falseExpiry = {
      comparison: feComparison,
      significant: window.totalFalseExpiries >= c.minFalseExpiries && feComparison.pValue < c.significance,
    };
    return { ...best, kind, falseExpiry };
  }

  /** The first minute of the window whose own failure rate already shows the rise. */
  function onsetMinute(window: Span, baselineRate: number): number {
    for (let j = 0; j < window.length; j++) {
      const n = window.requests[j]!;
      if (n > 0 && window.failures[j]! / n - baselineRate >= c.minEffect) return window.from + j;
    }
    return window.from;
  }

  function summarize(s: Series, window: Span, baseline: Span, kind: BaselineKind, p: number): string {
    const name = `${s.service} ${s.version ?? '(unknown version)'} (${s.track})`;
    const last = minutes(window.length);
    const against =
      kind === 'stable_track'
        ? `against ${percent(baseline.rate)} on stable over the last ${last}`
        : `over the last ${last} against ${percent(baseline.rate)} in its own ${minutes(baseline.length)} up to ${clockTime(baseline.from + baseline.length)} UTC`;
    const fe = window.totalFalseExpiries;
    const falseExpiries = fe === 0 ? '' : `; ${fe} ${fe === 1 ? 'was a false expiry of a still-valid token' : 'were false expiries of still-valid tokens'}`;
    return `${name} rejects ${percent(window.rate)} of requests as auth failures ${against} (p=${pValueText(p)})${falseExpiries}`;
  }

  return {
    kind: KIND,
    onEvent,
    onTick,
    get trackedDeployments() {
      return series.size;
    },
    get lateEvents() {
      return late;
    },
  };
}

const minutes = (n: number): string => (n === 1 ? 'minute' : `${n} minutes`);

/** HH:MM (UTC) of an epoch minute. */
const clockTime = (minute: number): string => iso(minute * MINUTE).slice(11, 16);

/** 21% above ten percent, 0.4% below it: the precision an analyst reads. */
const percent = (r: number): string => `${(r * 100).toFixed(r >= 0.1 ? 0 : 1)}%`;

const pValueText = (p: number): string => (p === 0 ? '<1e-300' : p < 0.001 ? p.toExponential(1) : p.toPrecision(2));
