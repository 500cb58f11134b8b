/**
 * The verdict as people read it in a terminal: for a block, the command, the chain of the first
 * production targets and how to proceed; for an allow, one line. JSON consumers use the Verdict.
 */
import type { ResolvedTarget, Verdict } from './types';

export interface FormatOptions {
  /** ANSI colours (only for a TTY). */
  color?: boolean;
  /** How many targets are shown before "(+N more …)"; default 3 for a block, 20 for a detailed allow. */
  maxTargets?: number;
  /** `guard check`: an allow lists its targets with their chains, and every warning and note. */
  detail?: boolean;
}

/**
 * The notes that need the reader's attention whatever the verdict: a target let through although
 * it could not be placed (`guard.onUnresolved: warn`). `guard exec` prints nothing else on an allow.
 */
export function verdictWarnings(v: Verdict): string[] {
  return v.notes.filter(isWarning);
}

function isWarning(note: string): boolean {
  return /\bguard\.onUnresolved is warn\.?$/.test(note);
}

export function formatVerdict(v: Verdict, opts: FormatOptions = {}): string {
  const c = painter(opts.color === true);
  const cmd = v.command?.length ? ` ${displayCommand(v.command)}` : '';
  if (v.verdict === 'allow') {
    const allowed = `infra-sandbox: ${c.green('allowed')}${cmd}`;
    const warnings = verdictWarnings(v);
    const notes = v.notes.filter((n) => !isWarning(n));
    if (opts.detail) {
      const lines = [`${allowed} — ${lowerFirst(v.reason)}`];
      const shown = Math.max(1, opts.maxTargets ?? 20);
      for (const t of v.targets.slice(0, shown)) lines.push(`  ${targetLine(t, c)}`);
      const rest = v.targets.length - shown;
      if (rest > 0) lines.push(c.dim(`  (+${rest} more ${rest === 1 ? 'target' : 'targets'}; --json lists them all)`));
      lines.push(...warnings.map((w) => `  ${c.yellow('warning:')} ${w}`), ...notes.map((n) => `  note: ${n}`));
      return lines.join('\n');
    }
    // Warnings first and all of them: a note in front must never hide one behind "(+N more)".
    if (warnings.length > 0) {
      return [
        `${allowed} — ${c.yellow('warning:')} ${warnings[0]}`,
        ...warnings.slice(1).map((w) => `  ${c.yellow('warning:')} ${w}`),
      ].join('\n');
    }
    if (notes.length === 0) return `${allowed} — ${lowerFirst(v.reason)}`;
    const more = notes.length > 1 ? ` (+${notes.length - 1} more)` : '';
    return `${allowed} — ${c.yellow('note:')} ${notes[0]}${more}`;
  }

  const blocking = v.targets.filter((t) => t.production);
  if (blocking.length === 0) {
    // Blocked for a reason of its own (a broken boundary): say it.
    return `infra-sandbox: ${c.red('blocked')}${cmd}\n  ${v.reason}`;
  }
  const k = blocking.length;
  const count = ` — ${k} of ${v.targets.length} ${v.targets.length === 1 ? 'target' : 'targets'} ${k === 1 ? 'is' : 'are'} production`;
  const lines = [`infra-sandbox: ${c.red('blocked')}${cmd || count}`];
  const shown = Math.max(1, opts.maxTargets ?? 3);
  for (const t of blocking.slice(0, shown)) lines.push(`  ${targetLine(t, c)}`);
  const rest = blocking.length - shown;
  if (rest > 0) lines.push(c.dim(`  (+${rest} more production ${rest === 1 ? 'target' : 'targets'})`));
  const onlyUnresolved = blocking.every((t) => t.rule?.startsWith('unresolved'));
  lines.push(
    onlyUnresolved
      ? 'The guard cannot tell where this goes, so it counts as production. Fix the name or its DNS (guard.dnsServers), or set guard.onUnresolved: warn in infra-sandbox.yaml.'
      : `This is production: point it at a sandbox instead. This version has no override (production windows with a passing gate come with the ledger); to act on production anyway, run the tool by its full path, e.g. /usr/bin/${(v.command?.[0] ?? 'ssh').split('/').pop()}.`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

interface Painter {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

function painter(on: boolean): Painter {
  const wrap = (open: string) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[0m` : s);
  return { red: wrap('1;31'), green: wrap('32'), yellow: wrap('33'), dim: wrap('2') };
}

/** `pi2 → ansible_host pi2.lan (host_vars/pi2.yml:3) → 192.168.1.202 ∈ 192.168.1.0/24 production` */
function targetLine(t: ResolvedTarget, c: Painter): string {
  const chain = [...t.chain];
  // No `192.168.1.10 → admin@192.168.1.10 (argv[1])`: the first hop already names the target.
  const first = (chain[0] ?? '').replace(/ \([^()]*\)$/, '').replace(/^[^@\s/]+@/, '');
  const head = chain.length > 0 && (chain[0] === t.name || first === t.name) ? [] : [t.name];
  // Say where the target came from unless a hop already does.
  if (t.source && !chain.some((hop) => hop.includes(t.source))) {
    if (head.length > 0) head[0] = `${head[0]} (${t.source})`;
    else chain[0] = `${chain[0]} (${t.source})`;
  }
  const hops = [...head, ...chain].map((hop) => (/ production$|onUnresolved: block/.test(hop) ? c.red(hop) : hop));
  return hops.join(' → ');
}

/** The command as typed, arguments with spaces or quotes in single quotes. */
function displayCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** "The target is …" → "the target is …" after a dash; names at the start stay as they are. */
function lowerFirst(s: string): string {
  return s.replace(/^(The|All) /, (w) => w.toLowerCase());
}
