/**
 * The decision: each target's names are matched against the boundary, its host is resolved and
 * every address matched; one production target (or one that cannot be resolved, under the default
 * `guard.onUnresolved: block`) blocks the whole command. Each target keeps the chain that led from
 * what the user named to the rule that decided, so a refusal can be checked and fixed.
 */
import { formatPlace } from './hostspec';
import { compileBoundary, type BoundaryMatcher } from './boundary';
import { normalizeHostName } from './address';
import { literalResolution, type Resolution, type Resolver } from './resolver';
import type { Boundary, ResolvedTarget, Target, TargetSource, Verdict } from './types';

export interface DecideOptions {
  /** The command line being decided, echoed in the verdict. */
  command?: string[];
  /** Default 'sandbox'. */
  environment?: 'sandbox' | 'production';
  /** Files inside it are shown relative to it (`host_vars/pi2.yml:3`). */
  baseDir?: string;
  /** How many targets are resolved at once (default 16). */
  concurrency?: number;
}

/**
 * The verdict for `targets`: block when any is production — by a name rule, by one of its
 * addresses, or because it cannot be resolved and `onUnresolved` is `block` — else allow.
 */
export async function decide(
  targets: Target[],
  boundary: Boundary,
  resolver: Pick<Resolver, 'resolve'>,
  opts: DecideOptions = {},
): Promise<Verdict> {
  const matcher = compileBoundary(boundary);
  const decided = await mapBounded(targets, opts.concurrency ?? 16, (t) =>
    decideTarget(t, boundary.onUnresolved, matcher, resolver, opts),
  );
  const resolved = decided.map((d) => d.target);
  const notes = decided.flatMap((d) => (d.note ? [d.note] : []));
  const verdict = (kind: Verdict['verdict'], reason: string): Verdict => ({
    verdict: kind,
    environment: opts.environment ?? 'sandbox',
    ...(opts.command ? { command: opts.command } : {}),
    targets: resolved,
    reason,
    notes,
  });

  // A production network that cannot be parsed leaves the boundary unknown: fail closed. Other bad
  // entries (a sandbox network, an empty pattern) are dropped, which only makes the guard stricter.
  const badProduction = matcher.problems.filter((p) => p.key.startsWith('production.networks'));
  for (const p of matcher.problems.filter((q) => !badProduction.includes(q))) {
    notes.push(`${p.key} ${JSON.stringify(p.value)} ${p.message}; it was ignored.`);
  }
  if (badProduction.length > 0) {
    const p = badProduction[0];
    return verdict(
      'block',
      `The production boundary is broken: ${p.key} ${JSON.stringify(p.value)} ${p.message}, so nothing can be shown to be outside production.`,
    );
  }

  if (resolved.length === 0) return verdict('allow', 'no network targets found');
  const blocking = resolved.filter((t) => t.production);
  if (blocking.length === 0) return verdict('allow', allowSentence(resolved, boundary.onUnresolved));
  const others = blocking.length - 1;
  const more = others > 0 ? ` (and ${others} more production ${others === 1 ? 'target' : 'targets'})` : '';
  return verdict('block', `${blockSentence(blocking[0])}${more}.`);
}

/** `argv[3]`, `host_vars/pi2.yml:3`, `$PGHOST`, or the free text of a config/default source. */
export function formatSource(source: TargetSource, baseDir?: string): string {
  switch (source.kind) {
    case 'argv':
      return source.argIndex !== undefined ? `argv[${source.argIndex}]` : (source.detail ?? 'argv');
    case 'file':
      if (!source.file) return source.detail ?? 'file';
      return baseDir
        ? formatPlace(source.file, source.line, baseDir)
        : `${source.file}${source.line ? `:${source.line}` : ''}`;
    case 'env':
      return source.envVar ? `$${source.envVar}` : (source.detail ?? 'environment');
    case 'config':
    case 'default':
      return source.detail ?? source.kind;
  }
}

// ---------------------------------------------------------------------------------------------

interface Decided {
  target: ResolvedTarget;
  note?: string;
}

const UNRESOLVED_LABEL: Record<NonNullable<ResolvedTarget['unresolved']>, string> = {
  nxdomain: 'NXDOMAIN',
  servfail: 'SERVFAIL',
  timeout: 'timeout',
  refused: 'REFUSED',
  error: 'error',
};

/** Most addresses shown in one chain; the `addresses` field always has them all. */
const MAX_CHAIN_ADDRESSES = 4;

/** Synchronous when nothing needs resolving (names only, address literals): inventories are mostly that. */
function decideTarget(
  target: Target,
  policy: Boundary['onUnresolved'],
  matcher: BoundaryMatcher,
  resolver: Pick<Resolver, 'resolve'>,
  opts: DecideOptions,
): Decided | Promise<Decided> {
  const out: ResolvedTarget = {
    kind: target.kind,
    name: target.name,
    source: formatSource(target.source, opts.baseDir),
    chain: [...target.chain],
    addresses: [],
    production: false,
    rule: null,
  };
  if (target.kind === 'local') return { target: out };

  // Names first: they decide without DNS.
  let nameRule: string | null = null;
  if (target.kubeContext) {
    const hit = matcher.matchKubeContext(target.kubeContext);
    if (hit) nameRule = `kube context ${hit} production`;
  }
  if (!nameRule && target.stateBackend) {
    const hit = matcher.matchStateBackend(target.stateBackend);
    if (hit) nameRule = `state backend ${hit} production`;
  }
  if (!nameRule && target.host) nameRule = hostRule(target.host, matcher);

  if (!target.host) {
    if (nameRule) out.chain.push(nameRule);
    out.production = nameRule !== null;
    out.rule = nameRule;
    return { target: out };
  }

  const host = target.host;
  const literal = literalResolution(host);
  if (literal) return placeTarget(out, nameRule, literal, host, policy, matcher);
  return resolver.resolve(host).then((r) => placeTarget(out, nameRule, r, host, policy, matcher));
}

/** Matches the resolved names and addresses and decides the target. */
function placeTarget(
  out: ResolvedTarget,
  rule: string | null,
  resolution: Resolution,
  host: string,
  policy: Boundary['onUnresolved'],
  matcher: BoundaryMatcher,
): Decided {
  let nameRule = rule;
  out.chain.push(...resolution.chain);
  out.addresses = resolution.addresses;
  // A CNAME hop can be a production name too (`www.example.test CNAME db.corp.example`); a literal
  // is also matched in its canonical spelling (a `192.168.1.*` pattern against `0xC0A801CA`).
  const alsoNames = resolution.names.length > 0 ? resolution.names.slice(1) : resolution.addresses;
  for (const other of alsoNames) {
    if (nameRule) break;
    if (other !== host) nameRule = hostRule(other, matcher);
  }

  const matches = resolution.addresses.map((address) => ({ address, ...matcher.matchAddress(address) }));
  const prod = matches.filter((m) => m.zone === 'production');
  // Production addresses first: they are the reason; the rest follow, up to a few.
  const ordered = [...prod, ...matches.filter((m) => m.zone !== 'production')];
  for (const m of ordered.slice(0, MAX_CHAIN_ADDRESSES)) {
    out.chain.push(m.zone ? `${m.address} ∈ ${m.cidr} ${m.zone}` : `${m.address} outside every configured network`);
  }
  if (ordered.length > MAX_CHAIN_ADDRESSES) out.chain.push(`(+${ordered.length - MAX_CHAIN_ADDRESSES} more addresses)`);

  if (nameRule || prod.length > 0) {
    if (nameRule) out.chain.push(nameRule);
    out.production = true;
    out.rule = nameRule ?? `${prod[0].cidr} production`;
    if (resolution.unresolved) out.unresolved = resolution.unresolved;
    return { target: out };
  }

  if (resolution.unresolved || resolution.addresses.length === 0) {
    return unresolvedTarget(out, resolution, policy, host);
  }
  const sandbox = matches.find((m) => m.zone === 'sandbox');
  out.rule = sandbox ? `${sandbox.cidr} sandbox` : null;
  return { target: out };
}

/** `host *.corp.example production` when `host` matches a production host pattern. */
function hostRule(host: string, matcher: BoundaryMatcher): string | null {
  const hit = matcher.matchHostName(host);
  return hit ? `host ${hit} production` : null;
}

function unresolvedTarget(
  out: ResolvedTarget,
  resolution: Resolution,
  policy: Boundary['onUnresolved'],
  host: string,
): Decided {
  const reason = resolution.unresolved ?? 'error';
  const label = UNRESOLVED_LABEL[reason];
  // `A query: SERVFAIL` adds nothing to SERVFAIL; `no answer within 2000 ms` does to timeout.
  const detail = resolution.detail && !resolution.detail.endsWith(label) ? ` (${resolution.detail})` : '';
  out.unresolved = reason;
  out.rule = `unresolved: ${label} (guard.onUnresolved: ${policy})`;
  out.chain.push(`${normalizeHostName(host)} did not resolve: ${label}${detail} (guard.onUnresolved: ${policy})`);
  // Fail closed: under `block` a target that cannot be placed counts as production.
  out.production = policy === 'block';
  const name = normalizeHostName(host);
  const who = out.name === name || out.name === host ? name : `${out.name}: ${name}`;
  const note =
    policy === 'warn'
      ? `${who} did not resolve (${label}${detail}); allowed because guard.onUnresolved is warn.`
      : undefined;
  return { target: out, note };
}

function allowSentence(targets: ResolvedTarget[], policy: Boundary['onUnresolved']): string {
  const n = targets.length;
  const unresolved = targets.filter((t) => t.unresolved).length;
  if (unresolved === 0) return `${n === 1 ? 'The target is' : `All ${n} targets are`} outside production.`;
  const why = `guard.onUnresolved is ${policy}`;
  if (n === 1) return `The target could not be resolved and ${why}.`;
  return `${n - unresolved} of ${n} targets are outside production; ${unresolved} could not be resolved and ${why}.`;
}

function blockSentence(t: ResolvedTarget): string {
  const what = `${t.name} (${t.source})`;
  if (t.unresolved && t.rule?.startsWith('unresolved')) {
    return `${what} could not be resolved (${UNRESOLVED_LABEL[t.unresolved]}) and guard.onUnresolved is block`;
  }
  const address = t.chain.find((c) => c.includes(' production') && c.includes(' ∈ '));
  if (t.rule?.startsWith('host ') || t.rule?.startsWith('kube context') || t.rule?.startsWith('state backend')) {
    return `${what} is production: it matches ${t.rule.replace(/ production$/, '')}`;
  }
  return `${what} is production: ${address ?? t.rule}`;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order; synchronous results skip the queue. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => R | Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const r = fn(items[i]);
      results[i] = r instanceof Promise ? await r : r;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
