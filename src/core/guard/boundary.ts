/**
 * The production boundary (SPEC §3) and how things are matched against it:
 *
 * - Addresses against networks: the most specific prefix wins, across production and sandbox
 *   (`192.168.64.0/24` sandbox inside `192.168.0.0/16` production is sandbox, and the reverse);
 *   equal prefixes → production (fail-safe). IPv4 networks also hold the IPv4-mapped IPv6 spelling
 *   of their addresses, and a `::ffff:a.b.c.d/N` network holds the IPv4 addresses it maps.
 * - Host names against `production.hosts` globs: `*` is any run of characters, dots included
 *   (`*.corp.example` matches `a.corp.example` and `a.b.corp.example`, not `corp.example`), `?` one
 *   character; case-insensitive; trailing dots ignored on both sides.
 * - Kube context names against `production.kubeContexts`: exact or the same globs, case-insensitive
 *   (a context spelled differently is the same risk).
 * - State backends against `production.stateBackends`: prefix on whole path segments after
 *   normalising trailing and repeated slashes — `gcs://corp-tf/prod` matches `gcs://corp-tf/prod` and
 *   `gcs://corp-tf/prod/net`, not `gcs://corp-tf/production-old`. A prefix with `*`/`?` is a glob
 *   over the same segments (`gcs://corp-tf/prod*` also matches `…/production-old/net`).
 */
import ipaddr from 'ipaddr.js';
import type { WorkspaceConfig } from '../config/types';
import { normalizeHostName, parseAddress } from './address';
import type { Boundary } from './types';

export type Zone = 'production' | 'sandbox';

export interface AddressMatch {
  zone: Zone | null;
  /** The network that decided, as written in the config. */
  cidr: string | null;
}

/** A boundary entry that cannot be used, with where it is in the config. */
export interface BoundaryProblem {
  key: string; // e.g. `production.networks[1]`
  value: string;
  message: string;
}

/** The boundary of a validated workspace config, with the documented defaults filled in. */
export function boundaryFromConfig(config: WorkspaceConfig): Boundary {
  const p = config.production ?? {};
  return {
    production: {
      networks: [...(p.networks ?? [])],
      hosts: [...(p.hosts ?? [])],
      kubeContexts: [...(p.kubeContexts ?? [])],
      stateBackends: [...(p.stateBackends ?? [])],
      env: [...(p.env ?? [])],
    },
    sandbox: { networks: [...(config.sandbox?.networks ?? [])] },
    onUnresolved: config.guard?.onUnresolved ?? 'block',
    dnsServers: [...(config.guard?.dnsServers ?? [])],
  };
}

/** Which zone `addr` (any spelling) falls in, by the most specific matching network. */
export function matchAddress(addr: string, boundary: Boundary): AddressMatch {
  return cached(boundary).matchAddress(addr);
}

/** The first `production.hosts` pattern that matches `name`, or null. */
export function matchHostName(name: string, boundary: Boundary): string | null {
  return cached(boundary).matchHostName(name);
}

/** The first `production.kubeContexts` entry (exact or glob) that matches the context `name`, or null. */
export function matchKubeContext(name: string, boundary: Boundary): string | null {
  return cached(boundary).matchKubeContext(name);
}

/** The first `production.stateBackends` prefix that `value` lies under (by path segment), or null. */
export function matchStateBackend(value: string, boundary: Boundary): string | null {
  return cached(boundary).matchStateBackend(value);
}

/**
 * Entries of the boundary that cannot be used: networks that are not CIDRs (IPv4 must be written
 * as four decimal parts, `10.0.0.0/8`, not `10/8`), and empty patterns.
 */
export function boundaryProblems(boundary: Boundary): BoundaryProblem[] {
  return cached(boundary).problems;
}

/** The boundary parsed once, for matching many things against it (the decider uses one per verdict). */
export interface BoundaryMatcher {
  matchAddress(addr: string): AddressMatch;
  matchHostName(name: string): string | null;
  matchKubeContext(name: string): string | null;
  matchStateBackend(value: string): string | null;
  problems: BoundaryProblem[];
}

/** Parses `boundary` once; unusable entries are left out and listed in `problems`. */
export function compileBoundary(boundary: Boundary): BoundaryMatcher {
  const problems: BoundaryProblem[] = [];
  // Production first, so that on equal prefixes production is kept.
  const networks = [
    ...parseNetworks(boundary.production.networks, 'production', problems),
    ...parseNetworks(boundary.sandbox.networks, 'sandbox', problems),
  ];
  const patterns = (list: string[], key: string, normalise: (s: string) => string, suffix: string): Pattern[] =>
    list.flatMap((pattern, i) => {
      const n = normalise(pattern);
      if (!n) {
        problems.push({ key: `production.${key}[${i}]`, value: pattern, message: 'is empty' });
        return [];
      }
      return [{ pattern, re: globToRegExp(n, suffix) }];
    });
  const hosts = patterns(boundary.production.hosts, 'hosts', normalizeHostName, '');
  const kubeContexts = patterns(boundary.production.kubeContexts, 'kubeContexts', (s) => s.trim().toLowerCase(), '');
  const stateBackends = patterns(boundary.production.stateBackends, 'stateBackends', normalizeBackend, '(/.*)?');
  const first = (list: Pattern[], value: string) =>
    value ? (list.find((p) => p.re.test(value))?.pattern ?? null) : null;

  return {
    problems,
    matchAddress(addr) {
      const parsed = parseAddress(addr);
      if (!parsed) return { zone: null, cidr: null };
      let best: Network | undefined;
      for (const net of networks) {
        if (net.range[0].kind() !== parsed.kind() || !parsed.match(net.range)) continue;
        // Longer prefix wins; on a tie the earlier (production) network is kept.
        if (!best || net.range[1] > best.range[1]) best = net;
      }
      return best ? { zone: best.zone, cidr: best.cidr } : { zone: null, cidr: null };
    },
    matchHostName: (name) => (hosts.length ? first(hosts, normalizeHostName(name)) : null),
    matchKubeContext: (name) => first(kubeContexts, name.trim().toLowerCase()),
    matchStateBackend: (value) => first(stateBackends, normalizeBackend(value)),
  };
}

// ---------------------------------------------------------------------------------------------

interface Network {
  zone: Zone;
  cidr: string;
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

interface Pattern {
  pattern: string;
  re: RegExp;
}

// Parsed once per boundary object for the one-off helpers above; the signature catches a boundary
// edited in place.
const cache = new WeakMap<Boundary, { signature: string; matcher: BoundaryMatcher }>();

function cached(boundary: Boundary): BoundaryMatcher {
  const signature = JSON.stringify([boundary.production, boundary.sandbox.networks]);
  const hit = cache.get(boundary);
  if (hit && hit.signature === signature) return hit.matcher;
  const matcher = compileBoundary(boundary);
  cache.set(boundary, { signature, matcher });
  return matcher;
}

function parseNetworks(list: string[], zone: Zone, problems: BoundaryProblem[]): Network[] {
  return list.flatMap((cidr, i) => {
    const range = parseCidr(cidr);
    if (typeof range === 'string') {
      problems.push({ key: `${zone}.networks[${i}]`, value: cidr, message: range });
      return [];
    }
    const nets: Network[] = [{ zone, cidr, range }];
    // `::ffff:192.168.1.0/120` also holds 192.168.1.0/24 as addresses are unmapped before matching.
    const [addr, bits] = range;
    if (addr.kind() === 'ipv6' && bits >= 96 && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      nets.push({ zone, cidr, range: [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96] });
    }
    return nets;
  });
}

/** The parsed network, or why `cidr` is not one. */
function parseCidr(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | string {
  const s = cidr.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return 'is not in CIDR notation (address/prefix, e.g. 192.168.1.0/24 or fd00::/8)';
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return `has a prefix length that is not a number ("${bits}")`;
  if (addr.includes(':')) {
    if (!ipaddr.IPv6.isValid(addr) || addr.includes('%')) return `"${addr}" is not an IPv6 address`;
    if (Number(bits) > 128) return `has prefix length /${bits}; IPv6 allows 0–128`;
    return [ipaddr.IPv6.parse(addr), Number(bits)];
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) {
    return `"${addr}" is not an IPv4 address written as four decimal parts (e.g. 10.0.0.0/8)`;
  }
  if (Number(bits) > 32) return `has prefix length /${bits}; IPv4 allows 0–32`;
  return [ipaddr.IPv4.parse(addr), Number(bits)];
}

/** `*` any run of characters (dots included), `?` one character; everything else literal. */
function globToRegExp(glob: string, suffix: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}${suffix}$`, 's');
}

/** `GCS://corp-tf//prod/` → `gcs://corp-tf/prod`: scheme lower-cased, repeated and trailing slashes dropped. */
function normalizeBackend(value: string): string {
  const s = value.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(s);
  const rest = (m ? m[2] : s).replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return m ? `${m[1].toLowerCase()}://${rest}` : rest;
}
