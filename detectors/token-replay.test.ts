import { describe, expect, it } from 'vitest';
import { access, analyze, CHROME, IPHONE, PYTHON } from '../test/helpers/events.js';

const replay = (fs: ReturnType<typeof analyze>) => fs.filter((f) => f.kind === 'token_replay');

describe('token_replay', () => {
  it('flags one token used concurrently from another network by another client type: high, revoke', () => {
    const events = [
      access(0, 't1'),
      access(30, 't1'),
      access(45, 't1', { clientIp: '203.0.113.50', userAgent: PYTHON }),
      access(60, 't1'),
      access(90, 't1', { clientIp: '203.0.113.50', userAgent: PYTHON }),
    ];
    const [f, ...rest] = replay(analyze(events));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'high', action: 'revoke', jti: 't1', detectedAt: '2026-11-25T10:00:45.000Z', firstEventAt: '2026-11-25T10:00:00.000Z' });
    expect(f!.summary).toMatch(/concurrently from 2 networks/);
    expect((f!.evidence.clients as unknown[]).length).toBe(2);
  });

  it('stays silent behind one NAT address shared by many users', () => {
    const events = Array.from({ length: 40 }, (_, i) => access(i * 3, `nat-${i % 20}`, { clientIp: '198.51.100.200', userAgent: i % 2 ? CHROME : IPHONE }));
    expect(replay(analyze(events))).toEqual([]);
  });

  it('stays silent for a phone that moves from wifi to the carrier network once', () => {
    const events = [
      access(0, 'm1', { clientIp: '192.0.2.10', userAgent: IPHONE }),
      access(20, 'm1', { clientIp: '192.0.2.10', userAgent: IPHONE }),
      access(40, 'm1', { clientIp: '100.64.7.9', userAgent: IPHONE }),
      access(60, 'm1', { clientIp: '100.64.7.9', userAgent: IPHONE }),
    ];
    expect(replay(analyze(events))).toEqual([]);
  });

  it('stays silent for a dual-stack client switching between IPv4 and IPv6', () => {
    const events = Array.from({ length: 10 }, (_, i) => access(i * 10, 'd1', { clientIp: i % 2 ? '2001:db8:42::7' : '198.51.100.77' }));
    expect(replay(analyze(events))).toEqual([]);
  });

  it('raises at most a medium alert when the same client type flaps between two IPv4 networks', () => {
    const events = [access(0, 'f1'), access(10, 'f1', { clientIp: '203.0.113.9' }), access(20, 'f1'), access(30, 'f1', { clientIp: '203.0.113.9' })];
    const fs = replay(analyze(events));
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ severity: 'medium', action: 'alert' });
  });

  it('stays silent when the second client appears long after the first stopped (outside the window)', () => {
    const events = [access(0, 'w1'), access(20, 'w1'), access(20 + 6 * 60, 'w1', { clientIp: '203.0.113.50', userAgent: PYTHON })];
    expect(replay(analyze(events))).toEqual([]);
  });

  it('gives the same findings and ids for the same input', () => {
    const events = () => [access(0, 't2'), access(5, 't2', { clientIp: '203.0.113.50', userAgent: PYTHON })];
    expect(JSON.stringify(analyze(events()))).toBe(JSON.stringify(analyze(events())));
  });
});
