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
  // Nearly every peer is plain IPv4, with or without a port: one scan, no copies.
  const v4 = ipv4End(raw);
  if (v4 === raw.length) return raw;
  if (v4 > 0) return raw.slice(0, v4);
  let ip = raw.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']') > 0 ? ip.indexOf(']') : undefined);
  else if (ip.indexOf(':') > 0 && ip.indexOf(':') === ip.lastIndexOf(':')) ip = ip.slice(0, ip.indexOf(':'));
  if (ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return ip;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * The length of `raw` when it is digits and dots, or of its address part when a `:port` of digits
 * follows; -1 otherwise (IPv6, brackets, spaces), for the general path.
 */
function ipv4End(raw: string): number {
  let i = 0;
  while (i < raw.length && (isDigit(raw.charCodeAt(i)) || raw.charCodeAt(i) === 46)) i++;
  if (i === 0) return -1;
  if (i === raw.length) return i;
  if (raw.charCodeAt(i) !== 58) return -1;
  for (let j = i + 1; j < raw.length; j++) if (!isDigit(raw.charCodeAt(j))) return -1;
  return i;
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
