// The client's IP address: the gateway's peer address, or the right-most untrusted entry
// of X-Forwarded-For when the peer is a configured trusted proxy (RFC 7239 section 8.2:
// only entries added by trusted proxies can be believed). Ports and brackets are stripped.
import { BlockList, isIP } from 'node:net';

/** Trusted proxies as CIDRs or addresses, compiled once at startup. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const entry of cidrs) {
      const [addr, bits] = entry.split('/');
      const family = isIP(addr ?? '');
      if (family === 0) throw new Error(`trustedProxies: "${entry}" is not an IP address or CIDR`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr!, type);
      else this.list.addSubnet(addr!, Number(bits), type);
    }
  }

  has(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** Strips a port (`1.2.3.4:55`, `[::1]:55`) and IPv4-mapped IPv6 (`::ffff:1.2.3.4`). */
export function bareIp(raw: string): string {
  let ip = raw.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']') > 0 ? ip.indexOf(']') : undefined);
  else if (ip.indexOf(':') > 0 && ip.indexOf(':') === ip.lastIndexOf(':')) ip = ip.slice(0, ip.indexOf(':'));
  if (ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return ip;
}

/** The client address for a request seen from `peer` with an optional X-Forwarded-For header. */
export function clientIp(peer: string | null, forwardedFor: string | null, trusted: TrustedProxies): string | null {
  const direct = peer ? bareIp(peer) : null;
  if (!forwardedFor || trusted.empty || (direct !== null && !trusted.has(direct))) return direct;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = bareIp(hops[i]!);
    if (isIP(hop) === 0) return direct;
    if (!trusted.has(hop)) return hop;
  }
  return direct;
}
