import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../ingest/model.js';
import { access, T0 } from '../../test/helpers/events.js';
import { chTime, eventRow, isFalseExpiry } from './rows.js';

const request = (o: Partial<AccessEvent> = {}, exp: number | null = T0 + 300_000): AccessEvent => access(0, 'jti-1', o, { exp }).event as AccessEvent;

describe('clickhouse rows', () => {
  it('formats times for DateTime64(3) in UTC and clamps exp claims beyond its range', () => {
    expect(chTime(Date.UTC(2026, 10, 25, 10, 0, 1, 23))).toBe('2026-11-25 10:00:01.023');
    expect(chTime(Number.MAX_SAFE_INTEGER)).toBe('2299-12-31 23:59:59.999');
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
