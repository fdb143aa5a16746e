import { describe, expect, it } from 'vitest';
import { bareIp, clientIp, TrustedProxies } from './client-ip.js';

describe('clientIp', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48']);

  it('ignores X-Forwarded-For when no proxy is trusted (a client can forge it)', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', new TrustedProxies([]))).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9');
  });

  it('takes the right-most untrusted hop behind trusted proxies', () => {
    expect(clientIp('10.1.2.3', '6.6.6.6, 198.51.100.4, 10.9.9.9', trusted)).toBe('198.51.100.4');
    expect(clientIp('2001:db8:ffff::1', '2001:db8:1::5', trusted)).toBe('2001:db8:1::5');
  });

  it('strips ports, brackets and IPv4-mapped prefixes', () => {
    expect(bareIp('198.51.100.4:51234')).toBe('198.51.100.4');
    expect(bareIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(bareIp('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(bareIp('2001:db8::1')).toBe('2001:db8::1');
  });

  it('refuses a trusted proxy entry that is not an address', () => {
    expect(() => new TrustedProxies(['not-an-ip/8'])).toThrow(/trustedProxies/);
  });
});
