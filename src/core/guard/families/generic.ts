/**
 * Any command without a family of its own: the network endpoints visible in its arguments — URLs,
 * `user@host`, `host:port`, `[v6]` and address literals in any spelling — and, for every family,
 * the targets named by the `production.env` variables. Only candidates are found here; the decider
 * normalises address spellings and resolves names.
 */
import { isIPv6 } from 'node:net';
import { hostsOfUrl, splitHostList } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, Target, TargetSource } from '../types';
import { argvSource, envSource, redact } from './util';

/** One endpoint found in a piece of text. */
export interface HostCandidate {
  kind: 'url' | 'host';
  /** The text as written (a URL, `user@host:port`, an address literal). */
  spec: string;
  /** The host to resolve: no user, port or brackets. */
  host: string;
}

/** `cmd ARGS…`: every endpoint-looking argument (argv[1..]) is a target, with its argv index. */
export const extractGeneric: Extractor = async (argv: readonly string[], _ctx: ExtractContext): Promise<Extraction> => {
  const targets: Target[] = [];
  argv.forEach((arg, i) => {
    if (i === 0) return;
    for (const c of hostCandidates(arg)) {
      targets.push(candidateTarget(c, argvSource(i), `${redact(c.spec)} (argv[${i}])`));
    }
  });
  return { targets, problems: [], notes: [] };
};

/**
 * The targets named by the configured `production.env` variables that are set: URLs, `host:port`,
 * `user@host`, host lists (`a,b`) and plain host names; a value starting with `/` is a unix socket
 * (kind 'local').
 */
export function envTargets(env: NodeJS.ProcessEnv, names: readonly string[]): Target[] {
  const targets: Target[] = [];
  for (const name of names) {
    const value = env[name]?.trim();
    if (!value) continue;
    targets.push(...envValueTargets(name, value));
  }
  return targets;
}

/** The targets of one variable's value (also used by families that read a variable of their own). */
export function envValueTargets(name: string, value: string, what = `$${name}`): Target[] {
  const source = envSource(name);
  const hop = `$${name}=${redact(value)}`;
  if (isUrl(value)) {
    const hosts = hostsOfUrl(value);
    if (hosts.length === 0) return [localTarget(what, source, [`${hop} (no network host)`])];
    return hosts.map((host) => ({ kind: 'url', name: what, host, source, chain: [hop] }));
  }
  const conninfo = [...value.matchAll(/\bhost(?:addr)?\s*=\s*'?([^\s',]+(?:,[^\s',]+)*)/g)].flatMap((m) =>
    m[1].split(','),
  );
  const pieces = conninfo.length > 0 ? conninfo : splitList(value);
  return pieces.map((piece): Target => {
    if (piece.startsWith('/') || piece.startsWith('@')) return localTarget(what, source, [`${hop} (unix socket)`]);
    const c = hostCandidates(piece, { bareNames: true })[0];
    return { kind: 'host', name: what, host: c?.host ?? piece, source, chain: [hop] };
  });
}

function localTarget(name: string, source: TargetSource, chain: string[]): Target {
  return { kind: 'local', name, source, chain };
}

export function candidateTarget(c: HostCandidate, source: TargetSource, hop: string): Target {
  return { kind: c.kind, name: c.spec, host: c.host, source, chain: [hop] };
}

// ---------------------------------------------------------------------------------------------
// Finding candidates

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi;
const NO_NETWORK_SCHEMES = /^(file|unix|npipe|fd|data|about|mailto):/i;
const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
const V4_PART = /^(?:0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i;
const MIN_BARE_V4 = 16777216; // 1.0.0.0: smaller bare integers are counts, not addresses

export interface CandidateOptions {
  /** Accept a plain host name (`db01`, `pve.corp.example`) as a whole value — for values that can only be hosts. */
  bareNames?: boolean;
}

/**
 * The endpoints in one argument or string: URLs anywhere in it; otherwise (after a `--opt=` or
 * `KEY=` prefix, and split on commas) `[v6]`, `user@host[:…]`, `host:port`, and bare address
 * literals — dotted quads (each part decimal, octal or hex), IPv6 with `::` or eight groups,
 * decimal integers and `0x…` from 1.0.0.0 up. Two- and three-part dotted numbers (`1.2`) are only
 * taken in host positions (`user@1.2`, `1.2:22`), as bare words they are version numbers.
 */
export function hostCandidates(text: string, options: CandidateOptions = {}): HostCandidate[] {
  const urls = [...text.matchAll(URL_IN_TEXT)].map((m) => m[0].replace(/[),.;\]]+$/, ''));
  if (urls.length > 0) {
    return urls
      .filter((u) => !NO_NETWORK_SCHEMES.test(u))
      .flatMap((u) => hostsOfUrl(u).map((host): HostCandidate => ({ kind: 'url', spec: u, host })));
  }
  const value = /^(?:-{1,2}[A-Za-z][\w.-]*|[A-Za-z_][\w.-]*)=(.*)$/s.exec(text)?.[1] ?? text;
  return splitList(value).flatMap((piece) => {
    const c = pieceCandidate(piece, options);
    return c ? [c] : [];
  });
}

function pieceCandidate(piece: string, options: CandidateOptions): HostCandidate | undefined {
  const s = piece.trim();
  if (!s || /\s/.test(s)) return undefined;
  // user@host[:anything], user@[v6][:anything]
  const at = /^([^@\s/:[\]]+)@(\[[^\]]+\]|[^:/@\s[\]]+)(?::.*)?$/.exec(s);
  if (at) {
    const host = unbracket(at[2]);
    return hostLike(host, true) ? { kind: 'host', spec: s, host } : undefined;
  }
  // [v6] or [v6]:port
  const br = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (br) return isV6(br[1]) ? { kind: 'host', spec: s, host: br[1] } : undefined;
  // host:port
  const hp = /^([^:/@\s]+):(\d{1,5})$/.exec(s);
  if (hp && Number(hp[2]) <= 65535) {
    const host = hp[1];
    if (/[a-z]/i.test(host) ? HOST_NAME.test(host) : isV4Literal(host, 1)) return { kind: 'host', spec: s, host };
    return undefined;
  }
  if (isV6(s) || isV4Literal(s, 4) || isBareNumberAddress(s)) return { kind: 'host', spec: s, host: s };
  if (options.bareNames && HOST_NAME.test(s)) return { kind: 'host', spec: s, host: s };
  return undefined;
}

/** A name or address acceptable in a host position. */
function hostLike(host: string, allowShortV4: boolean): boolean {
  return isV6(host) || (allowShortV4 && isV4Literal(host, 1)) || isV4Literal(host, 4) || HOST_NAME.test(host);
}

/** An IPv4 literal of at least `minParts` dot-separated numeric parts (decimal, octal, hex), optional trailing dot. */
export function isV4Literal(s: string, minParts: number): boolean {
  const parts = s.replace(/\.$/, '').split('.');
  if (parts.length < minParts || parts.length > 4 || !parts.every((p) => V4_PART.test(p))) return false;
  return parts.length > 1 || isBareNumberAddress(parts[0]);
}

function isBareNumberAddress(s: string): boolean {
  if (!/^(?:[1-9][0-9]{7,9}|0x[0-9a-f]{7,8})$/i.test(s)) return false;
  const n = Number(s);
  return n >= MIN_BARE_V4 && n <= 0xffffffff;
}

export function isV6(s: string): boolean {
  const bare = s.replace(/%[^%]+$/, '');
  return bare.includes(':') && isIPv6(bare);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

/** Splits on commas outside brackets, trimming each piece. */
function splitList(s: string): string[] {
  return splitHostList(s)
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}
