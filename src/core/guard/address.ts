/**
 * Address spellings (SPEC §10). Anything the system resolver would take as an IP literal —
 * `3232235978`, `0300.0250.1.202`, `0xC0A801CA`, `192.168.1` (inet_aton short forms),
 * `::FFFF:c0a8:1ca`, `[fe80::1%eth0]` — becomes one canonical spelling, so the boundary sees the
 * address the command will really reach. Everything else is a name.
 *
 * IPv4 parsing is ipaddr.js's, which follows glibc's inet_aton: per-part decimal, octal (leading 0)
 * and hex (0x), and short forms where the last part fills the remaining bytes (`10.1` → 10.0.0.1).
 * What it does not take and we add: brackets, zone ids (`%eth0`, url-encoded `%25eth0`), surrounding
 * whitespace and trailing dots (`192.168.1.202.` is treated as the address it spells — the safe
 * reading, although getaddrinfo would send it to DNS as a name).
 */
import ipaddr from 'ipaddr.js';

/** The canonical address when `input` is an IP literal in any spelling; undefined when it is a name. */
export function normalizeAddress(input: string): string | undefined {
  const parsed = parseAddress(input);
  if (!parsed) return undefined;
  return parsed.kind() === 'ipv4' ? parsed.toString() : (parsed as ipaddr.IPv6).toRFC5952String();
}

/** Like normalizeAddress, but the parsed address (IPv4-mapped IPv6 already unmapped, zone id dropped). */
export function parseAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let s = input.trim();
  if (s.length === 0 || s.length > 100) return undefined;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1).trim();
  if (s.includes(':')) return parseIPv6(s);
  // The common spelling, without the general parser: four decimal parts, no leading zeros (octal).
  const quad = DOTTED_QUAD.exec(s);
  if (quad) {
    const octets = [Number(quad[1]), Number(quad[2]), Number(quad[3]), Number(quad[4])];
    if (octets.every((o) => o <= 255)) return new ipaddr.IPv4(octets);
  }
  // Cheap pre-check before the parser: only digits, hex letters, x and dots can spell an IPv4 address.
  if (!IPV4_CHARS.test(s)) return undefined;
  s = s.replace(/\.+$/, '');
  if (!ipaddr.IPv4.isValid(s)) return undefined;
  return ipaddr.IPv4.parse(s);
}

/** A DNS name as the boundary compares it: lower-case, no trailing dot(s), no surrounding space. */
export function normalizeHostName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const IPV4_CHARS = /^[0-9a-fx.]+$/i;
const IPV6_CHARS = /^[0-9a-f:.]+$/i;

function parseIPv6(s: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const zone = s.indexOf('%');
  const bare = zone >= 0 ? s.slice(0, zone) : s;
  if (!IPV6_CHARS.test(bare) || !ipaddr.IPv6.isValid(bare)) return undefined;
  const v6 = ipaddr.IPv6.parse(bare);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}
