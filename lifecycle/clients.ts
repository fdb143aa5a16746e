// What counts as "the same client" for a token: its network (IPv4 /24, IPv6 /48, so a
// NAT pool or DHCP renewal stays one network) and its user-agent family (browser or
// library, not its version). Both are reduced to 32-bit hashes for the compact store.

/** The network prefix of an address: first three octets of IPv4, first three hextets of IPv6. */
export function networkPrefix(ip: string | null): string | null {
  if (!ip) return null;
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
    return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/48`;
  }
  const last = ip.lastIndexOf('.');
  return last > 0 ? `${ip.slice(0, last)}.0/24` : ip;
}

/** Whether an address is IPv6 (a dual-stack client moves between the two families). */
export const isIpv6 = (ip: string | null): boolean => ip !== null && ip.includes(':');

// Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
const FAMILIES: ReadonlyArray<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'edge'],
  [/\bOPR\/|\bOpera\b/, 'opera'],
  [/\bFirefox\/|\bFxiOS\//, 'firefox'],
  [/\bChrome\/|\bCriOS\/|\bChromium\//, 'chrome'],
  [/\bSafari\/|\bAppleWebKit\/.*Mobile\//, 'safari'],
  [/^curl\//i, 'curl'],
  [/^Wget\//i, 'wget'],
  [/^python-requests\/|^python-urllib|^aiohttp\/|^httpx\//i, 'python'],
  [/^okhttp\//i, 'okhttp'],
  [/^Go-http-client\//, 'go'],
  [/^Java\/|^Apache-HttpClient\//, 'java'],
  [/^axios\/|^node-fetch\/|^undici/i, 'node'],
  [/^PostmanRuntime\//, 'postman'],
  [/^Dart\//, 'dart'],
  [/^HTTPie\//i, 'httpie'],
];

/** The user-agent family: a browser or HTTP library name, or the first product token. */
export function uaFamily(ua: string | null): string {
  if (!ua) return 'none';
  for (const [pattern, family] of FAMILIES) if (pattern.test(ua)) return family;
  const product = /^[A-Za-z][\w.-]*/.exec(ua)?.[0];
  return product ? product.toLowerCase() : 'other';
}

/** 32-bit FNV-1a of a string: compact keys for networks, UA families and routes. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
