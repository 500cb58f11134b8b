/**
 * Host → addresses for the guard. Address literals (any spelling, ./address.ts) are themselves and
 * cost no I/O. Names go to the system resolver (`dns.lookup`: /etc/hosts, nsswitch, every A/AAAA)
 * or, when `guard.dnsServers` is set, to those servers, asking A, AAAA and CNAME so that every hop
 * of a CNAME chain is named in the verdict. Every lookup is bounded by a timeout, results are cached
 * for a short TTL, and concurrent lookups of one host share one query. It never throws: failures
 * come back as `unresolved` with a reason the decider turns into policy.
 */
import { promises as dns } from 'node:dns';
import { normalizeAddress, normalizeHostName } from './address';
import type { ResolvedTarget } from './types';

export type UnresolvedReason = NonNullable<ResolvedTarget['unresolved']>;

export interface Resolution {
  /** Canonical addresses (IPv4 dotted quad, IPv6 RFC 5952), in answer order, without duplicates. */
  addresses: string[];
  /** DNS hops: `www.corp.example CNAME db.corp.example`, `db.corp.example A 192.168.1.10`. */
  chain: string[];
  /** Every name met on the way, normalised: the host, then each CNAME target. Empty for a literal. */
  names: string[];
  unresolved?: UnresolvedReason;
  /** What failed, for people: `NXDOMAIN`, `AAAA query: SERVFAIL`, `no answer within 2000 ms`. */
  detail?: string;
}

export interface Resolver {
  resolve(host: string): Promise<Resolution>;
  /** Forgets every cached answer (the config or the network changed). */
  clear(): void;
}

export interface ResolverOptions {
  /** `ip`, `ip:port`, `[v6]:port`; empty → the system resolver. */
  dnsServers: string[];
  /** Budget for one host, all hops included (default 2000 ms). */
  timeoutMs?: number;
  /** How long an answer is reused (default 30 s); failures are reused for at most 5 s. */
  ttlMs?: number;
}

export function createResolver(options: ResolverOptions): Resolver {
  const timeoutMs = options.timeoutMs ?? 2000;
  const ttlMs = options.ttlMs ?? 30_000;
  const servers = options.dnsServers.map((s) => s.trim()).filter((s) => s.length > 0);
  const serverProblem = servers.length > 0 ? checkServers(servers) : undefined;
  const cache = new Map<string, { expires: number; promise: Promise<Resolution> }>();

  const lookup = (host: string): Promise<Resolution> => {
    if (serverProblem) return Promise.resolve(failed('error', serverProblem));
    return withTimeout(timeoutMs, (signal) =>
      servers.length > 0 ? queryServers(host, servers, timeoutMs, signal) : systemLookup(host),
    );
  };

  return {
    resolve(host: string): Promise<Resolution> {
      const literal = literalResolution(host);
      if (literal) return Promise.resolve(literal);
      const typed = host.trim();
      if (!normalizeHostName(typed)) return Promise.resolve(failed('error', 'empty host name'));
      // Keep a trailing dot for the query (an absolute name skips the search list); case does not matter.
      const key = typed.toLowerCase();
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && hit.expires > now) return hit.promise;
      if (hit) cache.delete(key);
      const entry = { expires: Number.POSITIVE_INFINITY, promise: lookup(key) };
      cache.set(key, entry);
      if (cache.size > MAX_CACHE) cache.delete(cache.keys().next().value as string);
      void entry.promise.then((r) => {
        entry.expires = Date.now() + (r.unresolved ? Math.min(ttlMs, NEGATIVE_TTL_MS) : ttlMs);
      });
      return entry.promise;
    },
    clear() {
      cache.clear();
    },
  };
}

/** The resolution of an address literal (no I/O), or undefined when `host` is a name. */
export function literalResolution(host: string): Resolution | undefined {
  const typed = host.trim();
  const literal = normalizeAddress(typed);
  if (literal === undefined) return undefined;
  return { addresses: [literal], chain: literal === typed ? [] : [`${typed} is ${literal}`], names: [] };
}

// ---------------------------------------------------------------------------------------------

const MAX_CACHE = 10_000;
const NEGATIVE_TTL_MS = 5_000;
const MAX_CNAME_HOPS = 8;

function failed(reason: UnresolvedReason, detail: string, names: string[] = []): Resolution {
  return { addresses: [], chain: [], names, unresolved: reason, detail };
}

/** Races `work` against the budget; on expiry aborts it and answers `timeout`. */
async function withTimeout(timeoutMs: number, work: (signal: AbortSignal) => Promise<Resolution>): Promise<Resolution> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Resolution>((done) => {
    timer = setTimeout(() => {
      controller.abort();
      done(failed('timeout', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      work(controller.signal).catch((err: unknown) => failed('error', errorText(err))),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The OS resolver: /etc/hosts and nsswitch count, as they do for the command itself. */
async function systemLookup(host: string): Promise<Resolution> {
  const name = normalizeHostName(host);
  try {
    const answers = await dns.lookup(host, { all: true, verbatim: true });
    const addresses = unique(answers.map((a) => normalizeAddress(a.address) ?? a.address));
    if (addresses.length === 0) return failed('nxdomain', 'no address', [name]);
    return { addresses, chain: [], names: [name] };
  } catch (err) {
    const { reason, detail } = classify(err);
    return failed(reason, detail, [name]);
  }
}

/** The configured servers: A, AAAA and CNAME in parallel, then the CNAME chain hop by hop. */
async function queryServers(
  host: string,
  servers: string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Resolution> {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers(servers);
  signal.addEventListener('abort', () => resolver.cancel(), { once: true });
  const name = normalizeHostName(host);
  const [v4, v6, cname] = await Promise.allSettled([
    resolver.resolve4(host),
    resolver.resolve6(host),
    resolver.resolveCname(host),
  ]);

  // Name every hop: the recursive answer already holds the final addresses, but not which name had them.
  const chain: string[] = [];
  const names = [name];
  let last = name;
  let next = cname.status === 'fulfilled' ? cname.value[0] : undefined;
  let hopProblem: string | undefined;
  while (next && !signal.aborted) {
    const target = normalizeHostName(next);
    chain.push(`${last} CNAME ${target}`);
    if (names.includes(target)) {
      hopProblem = `CNAME loop at ${target}`;
      break;
    }
    names.push(target);
    last = target;
    if (names.length > MAX_CNAME_HOPS) {
      hopProblem = `more than ${MAX_CNAME_HOPS} CNAME hops`;
      break;
    }
    try {
      next = (await resolver.resolveCname(target))[0];
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'ENODATA' && code !== 'ENOTFOUND') hopProblem = `CNAME query for ${target}: ${classify(err).detail}`;
      next = undefined;
    }
  }

  const a = v4.status === 'fulfilled' ? unique(v4.value) : [];
  const aaaa = v6.status === 'fulfilled' ? unique(v6.value.map((x) => normalizeAddress(x) ?? x)) : [];
  if (a.length > 0) chain.push(`${last} A ${a.join(', ')}`);
  if (aaaa.length > 0) chain.push(`${last} AAAA ${aaaa.join(', ')}`);
  const addresses = unique([...a, ...aaaa]);

  // A family that answered "no such record" is fine; any other failure leaves the answer incomplete.
  const failures = (
    [
      ['A', v4],
      ['AAAA', v6],
    ] as const
  ).flatMap(([type, r]) => (r.status === 'rejected' ? [{ type, code: codeOf(r.reason), err: r.reason }] : []));
  const serious = failures.find((f) => f.code !== 'ENODATA' && f.code !== 'ENOTFOUND');
  if (serious) {
    const { reason, detail } = classify(serious.err);
    return { addresses, chain, names, unresolved: reason, detail: `${serious.type} query: ${detail}` };
  }
  if (hopProblem) return { addresses, chain, names, unresolved: 'error', detail: hopProblem };
  if (addresses.length > 0) return { addresses, chain, names };
  if (failures.length === 2 && failures.every((f) => f.code === 'ENOTFOUND')) {
    return { addresses, chain, names, unresolved: 'nxdomain', detail: 'NXDOMAIN' };
  }
  return { addresses, chain, names, unresolved: 'nxdomain', detail: 'no A or AAAA record' };
}

/** Error code → the reason the verdict gives. */
function classify(err: unknown): { reason: UnresolvedReason; detail: string } {
  const code = codeOf(err);
  switch (code) {
    case 'ENOTFOUND':
      return { reason: 'nxdomain', detail: 'NXDOMAIN' };
    case 'ENODATA':
    case 'EAI_NODATA':
      return { reason: 'nxdomain', detail: 'no A or AAAA record' };
    case 'ESERVFAIL':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return { reason: 'servfail', detail: 'SERVFAIL' };
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return { reason: 'timeout', detail: 'timeout' };
    case 'ECONNREFUSED':
      return { reason: 'refused', detail: 'connection refused by the DNS server' };
    case 'EREFUSED':
      return { reason: 'refused', detail: 'REFUSED' };
    default:
      return { reason: 'error', detail: errorText(err) };
  }
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function errorText(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Why `guard.dnsServers` cannot be used, or undefined when every entry is an address with an optional port. */
function checkServers(servers: string[]): string | undefined {
  try {
    new dns.Resolver().setServers(servers);
    return undefined;
  } catch (err) {
    return `guard.dnsServers ${JSON.stringify(servers)}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
