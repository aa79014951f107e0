import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a server-side fetch of a user-given URL may connect to: public unicast only.
 * Anything that reaches the server itself, its network, or the cloud's metadata service is not
 * public (SSRF). Ranges are from the IANA special-purpose registries (RFC 6890 and successors).
 */
const NON_PUBLIC_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, includes cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

// IPv6 is allowed only inside global unicast 2000::/3, minus these; everything outside it
// (::, ::1, fc00::/7 unique-local, fe80::/10 link-local, ff00::/8 multicast…) is refused.
const NON_PUBLIC_V6_IN_GLOBAL: readonly [string, number][] = [
  ['2001::', 23], // IETF protocol assignments, includes Teredo 2001::/32
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: tunnels to an embedded IPv4 address
  ['3fff::', 20], // documentation
];

const blockedV4 = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V4) blockedV4.addSubnet(net, prefix, 'ipv4');
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet('2000::', 3, 'ipv6');
const blockedV6 = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V6_IN_GLOBAL) blockedV6.addSubnet(net, prefix, 'ipv6');

/**
 * True when `address` (an IP literal, no brackets) is a public unicast address. IPv4 embedded in
 * IPv6 — mapped `::ffff:a.b.c.d` and NAT64 `64:ff9b::a.b.c.d` — is judged by its IPv4 address.
 * Anything that is not an IP literal is not public.
 *
 * @example isPublicAddress('93.184.215.14') // true
 * @example isPublicAddress('::ffff:127.0.0.1') // false
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blockedV4.check(address, 'ipv4');
  if (family !== 6) return false;
  const groups = expandIpv6(address);
  if (groups === undefined) return false;
  const embedded = embeddedIpv4(groups);
  if (embedded !== undefined) return isPublicAddress(embedded);
  return globalUnicastV6.check(address, 'ipv6') && !blockedV6.check(address, 'ipv6');
}

// Names that only mean something inside a network: loopback, mDNS, the reserved `.internal`
// TLD (GCP's metadata.google.internal), and single-label names completed by a search domain.
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.localdomain'];

/** True for host names that are refused before any DNS lookup. `hostname` is lowercase, as URL gives it. */
export function isLocalHostname(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '');
  if (name === 'localhost' || !name.includes('.')) return true;
  return LOCAL_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** The eight 16-bit groups of an IPv6 literal (zone id dropped), or undefined if malformed. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0]!.toLowerCase();
  // A trailing dotted IPv4 (::ffff:1.2.3.4) stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::', 2) as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const missing = 8 - front.length - back.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  return [...front, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...back];
}

/** The IPv4 address carried by an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(groups: number[]): string | undefined {
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return undefined;
  const [hi, lo] = [groups[6]!, groups[7]!];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
