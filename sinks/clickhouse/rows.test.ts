import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../ingest/model.js';
import { access, T0 } from '../../test/helpers/events.js';
import { chTime, eventRow, isFalseExpiry } from './rows.js';

const request = (o: Partial<AccessEvent> = {}, exp: number | null = T0 + 300_000): AccessEvent => access(0, 'jti-1', o, { exp }).event as AccessEvent;

describe('clickhouse rows', () => {
  it('formats times for DateTime64(3) in UTC and clamps exp claims beyond its range', () => {
    expect(chTime(Date.UTC(2026, 10, 25, 10, 0, 1, 23))).toBe('2026-11-25 10:00:01.023');
    expect(chTime(Number.MAX_SAFE_INTEGER)).toBe('2299-12-31 23:59:59.999');
    expect(chTime(-1)).toBe('1970-01-01 00:00:00.000');
  });

  it('writes every time as Date would, whichever minute the last one was in', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      // Mostly neighbours of the last time (the cached minute), sometimes a jump anywhere.
      const ms = i % 7 === 0 ? next() * 1000 + (next() % 1000) : T0 + (next() % 180_000) + (i % 3) * 0.5;
      expect(chTime(ms), String(ms)).toBe(new Date(Math.floor(ms)).toISOString().slice(0, 23).replace('T', ' '));
    }
  });

  it('calls an expired rejection false only when the token exp is more than the clock skew ahead', () => {
    expect(isFalseExpiry(request({ status: 401, authError: 'expired' }))).toBe(true);
    expect(isFalseExpiry(request({ status: 401, authError: 'expired' }, T0 + 30_000))).toBe(false);
    expect(isFalseExpiry(request({ status: 401, authError: 'expired' }, T0 - 1000))).toBe(false);
    expect(isFalseExpiry(request({ status: 401, authError: 'expired' }, null))).toBe(false);
    expect(isFalseExpiry(request({ status: 401, authError: 'expired' }, null), { exp: T0 + 600_000 })).toBe(true);
    expect(isFalseExpiry(request({ status: 401, authError: 'invalid' }))).toBe(false);
  });

  it('writes a request without a token with empty token columns and no times', () => {
    const e = access(0, null).event as AccessEvent;
    const row = eventRow(e, { source: 'kong.log', offset: 7 });
    expect(row).toMatchObject({ token_fp: '', jti: '', exp: null, iat: null, aud: [], verified: null, auth_error: '', false_expiry: false, source: 'kong.log', source_offset: 7 });
  });
});
