/**
 * `ssh`, `scp`, `sftp`, `rsync`: each tool's option grammar gives the destinations and the ssh
 * options that shape them (`-F`, `-o`, `-l`, `-p`/`-P`, `-J`); the real `ssh -G` then says where
 * each destination goes — ~/.ssh/config aliases, Match blocks, HostName, ProxyJump — without
 * connecting anywhere. Every ProxyJump host is a target too, followed through its own config.
 */
import { tokenFromSignal } from '../../cancellation';
import { ProcessError, run, ToolMissingError, type CommandSpec } from '../../exec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { hostCandidates } from './generic';
import { argvSource, commandName, displayPath, expandPath, helperEnv, splitWords } from './util';

export const extractSsh: Extractor = async (argv, ctx) => {
  const tool = commandName(argv[0]);
  const parsed =
    tool === 'scp'
      ? parseScp(argv)
      : tool === 'sftp'
        ? parseSftp(argv)
        : tool === 'rsync'
          ? parseRsync(argv, ctx.env)
          : parseSsh(argv);
  const state = newState(ctx);
  state.notes.push(...parsed.notes);
  if (parsed.queryOnly) {
    state.notes.push(parsed.queryOnly);
    return finish(state);
  }
  for (const dest of parsed.destinations) {
    if (!dest.host) state.notes.push(`no host in the destination ${JSON.stringify(dest.spec)}`);
    else if (dest.resolve) await destinationTargets(dest, parsed.ssh, state, 0, []);
    else state.targets.push(literalTarget(dest));
  }
  for (const f of parsed.forwards) {
    state.targets.push({
      kind: 'host',
      name: f.spec,
      host: f.host,
      source: argvSource(f.index, f.flag),
      chain: [f.hop],
    });
  }
  return finish(state);
};

/**
 * Where an ssh destination (`prod`, `deploy@prod`, `ssh://u@h:2222`) really goes, through `ssh -G`
 * and its ProxyJump hosts — for other families that reach a host over ssh (`DOCKER_HOST=ssh://…`).
 */
export async function resolveSshDestination(
  spec: string,
  source: TargetSource,
  hop: string,
  ctx: ExtractContext,
): Promise<Extraction> {
  const state = newState(ctx);
  const d = parseDestination(spec);
  if (!d.host) {
    state.notes.push(`${hop}: no host in ssh destination ${JSON.stringify(spec)}`);
    return finish(state);
  }
  await destinationTargets({ ...d, spec, source, hop, resolve: true }, { options: [] }, state, 0, []);
  return finish(state);
}

// ---------------------------------------------------------------------------------------------
// What a command line says

/** A value and where it was typed (argv index; for options inside `rsync -e '…'`, the index of that argument). */
interface Arg {
  value: string;
  index: number;
}

/** The ssh options that change where a destination goes; handed to `ssh -G`. */
interface SshOptions {
  configFile?: Arg;
  options: Arg[];
  user?: Arg;
  port?: Arg;
  jump?: Arg;
}

interface Destination {
  /** As typed: `deploy@prod`, `prod:/srv`, `ssh://h:22`. */
  spec: string;
  user?: string;
  host: string;
  port?: string;
  source: TargetSource;
  /** First chain hop, e.g. `prod (argv[1])`. */
  hop: string;
  /** false: take the host literally (an rsync daemon, a remote shell that is not ssh). */
  resolve: boolean;
}

interface Forward {
  spec: string;
  host: string;
  index: number;
  flag: string;
  hop: string;
}

interface Invocation {
  ssh: SshOptions;
  destinations: Destination[];
  forwards: Forward[];
  notes: string[];
  /** Set when the command connects nowhere (`ssh -G`, `ssh -V`); the text says why. */
  queryOnly?: string;
}

interface ShortOption {
  flag: string;
  value?: string;
  /** argv index of the value (or of the flag when it takes none). */
  index: number;
}

const SSH_VALUE_OPTIONS = 'BbcDEeFIiJLlmOopPQRSWw';
const SCP_VALUE_OPTIONS = 'cDFiJloPSX';
const SFTP_VALUE_OPTIONS = 'BbcDFiJloPRSsX';

/**
 * BSD getopt, as OpenSSH uses it: options until the first operand or `--`; a value option takes
 * the rest of its word or the next word (`-p22`, `-p 22`, `-vp 22`).
 */
function getopt(
  argv: readonly string[],
  start: number,
  valueOptions: string,
): { options: ShortOption[]; next: number; terminated: boolean } {
  const options: ShortOption[] = [];
  let i = start;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return { options, next: i + 1, terminated: true };
    if (!arg.startsWith('-') || arg === '-') break;
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j];
      if (!valueOptions.includes(flag)) {
        options.push({ flag, index: i });
        continue;
      }
      if (j + 1 < arg.length) options.push({ flag, value: arg.slice(j + 1), index: i });
      else if (i + 1 < argv.length) {
        i++;
        options.push({ flag, value: argv[i], index: i });
      }
      break;
    }
  }
  return { options, next: i, terminated: false };
}

/** Collects the ssh-relevant options; `portFlag` is `p` for ssh, `P` for scp and sftp. */
function sshOptionsFrom(options: readonly ShortOption[], portFlag: 'p' | 'P', loginFlag: boolean): SshOptions {
  const out: SshOptions = { options: [] };
  for (const o of options) {
    if (o.value === undefined) continue;
    const arg = { value: o.value, index: o.index };
    if (o.flag === 'F') out.configFile = arg;
    else if (o.flag === 'o') out.options.push(arg);
    else if (o.flag === 'J') out.jump = arg;
    else if (o.flag === portFlag) out.port = arg;
    else if (o.flag === 'l' && loginFlag) out.user = arg;
  }
  return out;
}

/** `ssh [options] destination [options] [command…]` — ssh reads options again after the destination. */
function parseSsh(argv: readonly string[]): Invocation {
  const first = getopt(argv, 1, SSH_VALUE_OPTIONS);
  const options = [...first.options];
  let destIndex = -1;
  if (first.next < argv.length) {
    destIndex = first.next;
    if (!first.terminated) options.push(...getopt(argv, destIndex + 1, SSH_VALUE_OPTIONS).options);
  }
  const inv: Invocation = { ssh: sshOptionsFrom(options, 'p', true), destinations: [], forwards: [], notes: [] };
  const query = options.find((o) => o.flag === 'G' || o.flag === 'V' || o.flag === 'Q');
  if (query) {
    inv.queryOnly = `ssh -${query.flag} only prints ${query.flag === 'V' ? 'its version' : 'configuration'}; it connects nowhere`;
    return inv;
  }
  if (destIndex < 0) {
    inv.notes.push('ssh: no destination given');
    return inv;
  }
  const spec = argv[destIndex];
  inv.destinations.push({
    ...parseDestination(spec),
    spec,
    source: argvSource(destIndex),
    hop: `${spec} (argv[${destIndex}])`,
    resolve: true,
  });
  for (const o of options) {
    if (o.value === undefined || !'LRW'.includes(o.flag)) continue;
    const host = forwardHost(o.flag, o.value);
    if (host && !isLoopback(host)) {
      const where = o.flag === 'R' ? 'connected from here' : `connected from ${spec}`;
      inv.forwards.push({
        spec: o.value,
        host,
        index: o.index,
        flag: `-${o.flag}`,
        hop: `-${o.flag} ${o.value} (argv[${o.index}], ${where})`,
      });
    }
  }
  return inv;
}

/** `scp [options] source… target`: every `[user@]host:path` or `scp://…` operand is a destination. */
function parseScp(argv: readonly string[]): Invocation {
  const { options, next } = getopt(argv, 1, SCP_VALUE_OPTIONS);
  const inv: Invocation = { ssh: sshOptionsFrom(options, 'P', false), destinations: [], forwards: [], notes: [] };
  for (let i = next; i < argv.length; i++) {
    const d = remoteOperand(argv[i], 'scp');
    if (d)
      inv.destinations.push({
        ...d,
        spec: argv[i],
        source: argvSource(i),
        hop: `${argv[i]} (argv[${i}])`,
        resolve: true,
      });
  }
  if (inv.destinations.length === 0) inv.notes.push('scp: no remote operand (host:path); a local copy reaches no host');
  return inv;
}

/** `sftp [options] destination`: `[user@]host[:path]` or `sftp://…`. */
function parseSftp(argv: readonly string[]): Invocation {
  const { options, next } = getopt(argv, 1, SFTP_VALUE_OPTIONS);
  const inv: Invocation = { ssh: sshOptionsFrom(options, 'P', false), destinations: [], forwards: [], notes: [] };
  if (options.some((o) => o.flag === 'D')) {
    inv.queryOnly = 'sftp -D talks to a local sftp server; it connects to no host';
    return inv;
  }
  if (next >= argv.length) {
    inv.notes.push('sftp: no destination given');
    return inv;
  }
  const spec = argv[next];
  const d = remoteOperand(spec, 'sftp') ?? parseDestination(spec);
  inv.destinations.push({ ...d, spec, source: argvSource(next), hop: `${spec} (argv[${next}])`, resolve: true });
  return inv;
}

/** rsync options that take a value (short letters, and long names when written `--name VALUE`). */
const RSYNC_SHORT_VALUES = 'eBfMT@';
const RSYNC_LONG_VALUES = new Set(
  (
    'rsh rsync-path block-size backup-dir suffix chmod usermap groupmap chown timeout contimeout max-delete max-size ' +
    'min-size max-alloc partial-dir temp-dir compare-dest copy-dest link-dest compress-choice zc compress-level zl ' +
    'skip-compress checksum-choice cc checksum-seed filter exclude include exclude-from include-from files-from address ' +
    'port sockopts outbuf remote-option out-format log-file log-file-format password-file early-input bwlimit stop-after ' +
    'stop-at write-batch only-write-batch read-batch protocol iconv copy-as info debug modify-window config dparam'
  ).split(' '),
);

/**
 * `rsync [options] src… dest` (options anywhere, popt-style): `[user@]host:path` goes over the
 * remote shell (`-e`/`--rsh`, `$RSYNC_RSH`, default ssh), `[user@]host::module` and `rsync://host/`
 * to an rsync daemon.
 */
function parseRsync(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  const operands: Arg[] = [];
  let rsh: Arg | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      for (let j = i + 1; j < argv.length; j++) operands.push({ value: argv[j], index: j });
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      let value: Arg | undefined;
      if (eq >= 0) value = { value: arg.slice(eq + 1), index: i };
      else if (RSYNC_LONG_VALUES.has(name) && i + 1 < argv.length) value = { value: argv[++i], index: i };
      if (name === 'rsh' && value) rsh = value;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        if (!RSYNC_SHORT_VALUES.includes(arg[j])) continue;
        const value =
          j + 1 < arg.length
            ? { value: arg.slice(j + 1), index: i }
            : i + 1 < argv.length
              ? { value: argv[++i], index: i }
              : undefined;
        if (arg[j] === 'e' && value) rsh = value;
        break;
      }
      continue;
    }
    operands.push({ value: arg, index: i });
  }

  const inv: Invocation = { ssh: { options: [] }, destinations: [], forwards: [], notes: [] };
  const shell = rsh?.value ?? env.RSYNC_RSH;
  const shellWords = shell ? splitWords(shell) : ['ssh'];
  const viaSsh = commandName(shellWords[0]) === 'ssh';
  if (shell && viaSsh) {
    const { options } = getopt(shellWords, 1, SSH_VALUE_OPTIONS);
    // Options inside `-e '…'` are credited to that argument; from $RSYNC_RSH, to no argument.
    inv.ssh = sshOptionsFrom(
      options.map((o) => ({ ...o, index: rsh ? rsh.index : -1 })),
      'p',
      true,
    );
  } else if (shell) {
    inv.notes.push(`rsync remote shell "${shell}" is not ssh: its hosts were taken literally, without ssh config`);
  }
  for (const op of operands) {
    const daemon = rsyncDaemonOperand(op.value);
    const remote = daemon ?? remoteOperand(op.value, 'rsync');
    if (!remote) continue;
    inv.destinations.push({
      ...remote,
      spec: op.value,
      source: argvSource(op.index),
      hop: `${op.value} (argv[${op.index}]${daemon ? ', rsync daemon' : ''})`,
      resolve: viaSsh && (!daemon || rsh !== undefined),
    });
  }
  if (inv.destinations.length === 0) inv.notes.push('rsync: no remote operand; a local copy reaches no host');
  return inv;
}

// ---------------------------------------------------------------------------------------------
// Destination spellings

interface UserHostPort {
  user?: string;
  host: string;
  port?: string;
}

/** ssh's destination: `[user@]host` or `ssh://[user@]host[:port]` (no `host:port` form). */
function parseDestination(spec: string): UserHostPort {
  const uri = /^(?:ssh|sftp|scp):\/\/(?:([^@/]*)@)?(\[[^\]]*\]|[^:/]*)(?::(\d+))?/i.exec(spec);
  if (uri) return { user: uri[1] || undefined, host: unbracket(uri[2]), port: uri[3] };
  const at = spec.lastIndexOf('@');
  return at >= 0
    ? { user: spec.slice(0, at) || undefined, host: unbracket(spec.slice(at + 1)) }
    : { host: unbracket(spec) };
}

/** A ProxyJump entry: `[user@]host[:port]`, `[user@][v6]:port` or `ssh://…`. */
function parseJump(spec: string): UserHostPort {
  if (/^ssh:\/\//i.test(spec)) return parseDestination(spec);
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) || undefined : undefined;
  const rest = at >= 0 ? spec.slice(at + 1) : spec;
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(rest);
  if (m) return { user, host: unbracket(m[1]), port: m[2] };
  return { user, host: rest }; // a bare IPv6 address
}

/**
 * An scp/sftp/rsync operand that names a host: `scp://[user@]host[:port]/path` or
 * `[user@]host:path` — a colon before any slash, brackets allowed (`user@[v6]:path`).
 */
function remoteOperand(op: string, tool: 'scp' | 'sftp' | 'rsync'): UserHostPort | undefined {
  if (/^(?:scp|sftp):\/\//i.test(op)) return tool === 'rsync' ? undefined : parseDestination(op);
  if (op.startsWith(':')) return undefined;
  let inBrackets = false;
  for (let i = 0; i < op.length; i++) {
    const ch = op[i];
    if (ch === '[') inBrackets = true;
    else if (ch === ']') inBrackets = false;
    else if (ch === '/' && !inBrackets) return undefined;
    else if (ch === ':' && !inBrackets) {
      const d = parseDestination(op.slice(0, i));
      return d.host ? d : undefined;
    }
  }
  return undefined;
}

/** `rsync://[user@]host[:port]/module` or `[user@]host::module`. */
function rsyncDaemonOperand(op: string): UserHostPort | undefined {
  const uri = /^rsync:\/\/(?:([^@/]*)@)?(\[[^\]]*\]|[^:/]*)(?::(\d+))?/i.exec(op);
  if (uri) return uri[2] ? { user: uri[1] || undefined, host: unbracket(uri[2]), port: uri[3] } : undefined;
  const m = /^([^/]*?)::/.exec(op);
  if (!m || m[1].includes('[') !== m[1].includes(']')) return undefined;
  const d = parseDestination(m[1]);
  return d.host ? d : undefined;
}

/** The host a `-L`/`-R`/`-W` forward connects to ('' for sockets and dynamic forwards). */
function forwardHost(flag: string, spec: string): string {
  const parts = splitColons(spec);
  if (flag === 'W') return parts.length === 2 ? parts[0] : '';
  // The connecting side is a socket (`port:/remote.sock`); a socket on the listening side
  // (`/local.sock:host:port`) still connects to host:port.
  if (parts[parts.length - 1].includes('/')) return '';
  if (parts.length === 4) return parts[2];
  if (parts.length === 3) return parts[1];
  return '';
}

function splitColons(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === ':' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map(unbracket);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isLoopback(host: string): boolean {
  return /^(localhost|127(\.\d+){1,3}|::1|0\.0\.0\.0|\*)$/i.test(host);
}

// ---------------------------------------------------------------------------------------------
// ssh -G

export interface SshConfig {
  hostname: string;
  user?: string;
  port?: string;
  proxyJump?: string;
  proxyCommand?: string;
  /** LocalForward / RemoteForward from the config files and `-o` (argv `-L`/`-R` are not passed to ssh -G). */
  forwards?: SshConfigForward[];
}

export interface SshConfigForward {
  kind: 'LocalForward' | 'RemoteForward';
  /** The listening side as ssh -G prints it: `8080`, `/tmp/s.sock`. */
  listen: string;
  /** The host the forwarded connections go to, and its port. */
  host: string;
  port: string;
}

interface State {
  ctx: ExtractContext;
  targets: Target[];
  problems: InputProblem[];
  notes: string[];
  cache: Map<string, Promise<SshLookup>>;
  missingNoted: boolean;
}

type SshLookup =
  { ok: true; config: SshConfig } | { ok: false; missing: boolean; message: string; problem?: InputProblem };

const MAX_DEPTH = 5;
const SSH_G_TIMEOUT_MS = 10_000;

function newState(ctx: ExtractContext): State {
  return { ctx, targets: [], problems: [], notes: [], cache: new Map(), missingNoted: false };
}

function finish(state: State): Extraction {
  return { targets: state.targets, problems: state.problems, notes: state.notes };
}

function literalTarget(d: Destination): Target {
  return { kind: 'host', name: d.host, host: d.host, source: d.source, chain: [d.hop] };
}

/** Where the config came from, for chain hops: `ssh -G, /tmp/x/config` or `ssh -G, ~/.ssh/config`. */
function configPlace(ssh: SshOptions, ctx: ExtractContext): string {
  if (!ssh.configFile) return 'ssh -G, ~/.ssh/config';
  if (ssh.configFile.value === 'none') return 'ssh -G, -F none';
  return `ssh -G, ${displayPath(expandPath(ssh.configFile.value, ctx.cwd, ctx.home), ctx)}`;
}

/** The -o option setting `key` (`-o HostName=x`, `-o "HostName x"`), if any. */
function optionValue(ssh: SshOptions, key: string): Arg | undefined {
  for (const o of ssh.options) {
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(o.value);
    if (m && m[1].toLowerCase() === key.toLowerCase()) return { value: m[2].trim(), index: o.index };
  }
  return undefined;
}

function argWhere(arg: Arg, what: string): string {
  return arg.index >= 0 ? `${what}, argv[${arg.index}]` : `${what}, $RSYNC_RSH`;
}

/** Adds the destination's target, then its ProxyJump hosts and an ssh ProxyCommand, recursively. */
async function destinationTargets(
  d: Destination,
  ssh: SshOptions,
  state: State,
  depth: number,
  seen: string[],
): Promise<void> {
  const { ctx } = state;
  const name = d.host;
  const key = `${d.user ?? ''}@${d.host}:${d.port ?? ''}`.toLowerCase();
  if (seen.includes(key)) return;
  seen.push(key);

  const lookup = await sshG(d, ssh, state);
  const hostNameOption = optionValue(ssh, 'HostName');
  const jumpOption = optionValue(ssh, 'ProxyJump');
  if (!lookup.ok) {
    if (lookup.problem) state.problems.push(lookup.problem);
    if (lookup.missing) {
      if (!state.missingNoted) {
        state.notes.push(
          'ssh is not on PATH: ssh config (aliases, HostName, ProxyJump in ~/.ssh/config) was not applied; hosts were taken literally',
        );
        state.missingNoted = true;
      }
    } else state.notes.push(`ssh -G ${d.spec}: ${lookup.message}; the host was taken literally`);
    const host = hostNameOption?.value || d.host;
    const chain = [d.hop];
    if (host !== d.host && hostNameOption) chain.push(`HostName ${host} (${argWhere(hostNameOption, '-o')})`);
    state.targets.push({ kind: 'host', name, host, source: d.source, chain });
    const jumps = ssh.jump ?? jumpOption;
    if (jumps && depth < MAX_DEPTH) {
      for (const spec of jumpList(jumps.value)) {
        const j = parseJump(spec);
        state.targets.push({
          kind: 'host',
          name: j.host,
          host: j.host,
          source:
            jumps.index >= 0
              ? argvSource(jumps.index, ssh.jump ? '-J' : '-o ProxyJump')
              : { kind: 'env', envVar: 'RSYNC_RSH', detail: 'ProxyJump' },
          chain: [`${j.host} (ProxyJump of ${name}, ${argWhere(jumps, ssh.jump ? '-J' : '-o ProxyJump')})`],
        });
      }
    }
    return;
  }

  const config = lookup.config;
  const chain = [d.hop];
  if (config.hostname.toLowerCase() !== d.host.toLowerCase()) {
    const via = hostNameOption ? argWhere(hostNameOption, '-o') : configPlace(ssh, ctx);
    chain.push(`HostName ${config.hostname} (${via})`);
  }
  state.targets.push({ kind: 'host', name, host: config.hostname, source: d.source, chain });
  for (const f of config.forwards ?? []) {
    if (isLoopback(f.host)) continue;
    const option = optionValue(ssh, f.kind);
    const via = option ? argWhere(option, '-o') : configPlace(ssh, ctx);
    const from = f.kind === 'RemoteForward' ? 'connected from here' : `connected from ${name}`;
    const to = f.host.includes(':') ? `[${f.host}]:${f.port}` : `${f.host}:${f.port}`;
    state.targets.push({
      kind: 'host',
      name: to,
      host: f.host,
      source:
        option && option.index >= 0
          ? argvSource(option.index, `-o ${f.kind}`)
          : { kind: 'config', detail: `${f.kind} of ${name} (${via})` },
      chain: [`${f.kind} ${f.listen} ${to} of ${name} (${via}, ${from})`],
    });
  }
  if (depth >= MAX_DEPTH) {
    state.notes.push(`ssh: stopped following ProxyJump/ProxyCommand after ${MAX_DEPTH} hops at ${name}`);
    return;
  }

  if (config.proxyJump && config.proxyJump.toLowerCase() !== 'none') {
    const fromArgv = ssh.jump ?? jumpOption;
    const flag = ssh.jump ? '-J' : '-o ProxyJump';
    const via = fromArgv ? argWhere(fromArgv, flag) : configPlace(ssh, ctx);
    for (const spec of jumpList(config.proxyJump)) {
      const j = parseJump(spec);
      if (!j.host) continue;
      const source: TargetSource =
        fromArgv && fromArgv.index >= 0
          ? argvSource(fromArgv.index, flag)
          : { kind: 'config', detail: `ProxyJump of ${name} (${via})` };
      // A jump host is reached with the same -F config, but without the -o options (as ssh does).
      const jumpSsh: SshOptions = { configFile: ssh.configFile, options: [] };
      await destinationTargets(
        { ...j, spec, source, hop: `${j.host} (ProxyJump of ${name}, ${via})`, resolve: true },
        jumpSsh,
        state,
        depth + 1,
        seen,
      );
    }
  }

  if (config.proxyCommand && config.proxyCommand.toLowerCase() !== 'none') {
    await proxyCommandTargets(config, d, name, ssh, state, depth, seen);
  }
}

/** A ProxyCommand: another ssh is followed like a destination; anything else is searched for host:port and addresses. */
async function proxyCommandTargets(
  config: SshConfig,
  d: Destination,
  name: string,
  ssh: SshOptions,
  state: State,
  depth: number,
  seen: string[],
): Promise<void> {
  const expanded = config.proxyCommand!.replace(/%(.)/g, (_m, c: string) =>
    c === 'h'
      ? config.hostname
      : c === 'p'
        ? (config.port ?? '22')
        : c === 'r'
          ? (config.user ?? '')
          : c === 'n'
            ? d.host
            : c === '%'
              ? '%'
              : `%${c}`,
  );
  const words = splitWords(expanded);
  const via = optionValue(ssh, 'ProxyCommand') ? '-o ProxyCommand' : configPlace(ssh, state.ctx);
  const source: TargetSource = { kind: 'config', detail: `ProxyCommand of ${name} (${via})` };
  if (commandName(words[0]) === 'ssh') {
    const inner = parseSsh(words);
    for (const dest of inner.destinations) {
      await destinationTargets(
        { ...dest, source, hop: `${dest.host} (ProxyCommand "${config.proxyCommand}" of ${name}, ${via})` },
        { ...inner.ssh, options: inner.ssh.options.map((o) => ({ ...o, index: -1 })) },
        state,
        depth + 1,
        seen,
      );
    }
    return;
  }
  state.notes.push(
    `ProxyCommand "${config.proxyCommand}" of ${name}: only the host:port and addresses in it were checked`,
  );
  for (const word of words.slice(1)) {
    for (const c of hostCandidates(word)) {
      if (c.host.toLowerCase() === config.hostname.toLowerCase()) continue;
      state.targets.push({
        kind: c.kind,
        name: c.spec,
        host: c.host,
        source,
        chain: [`${c.spec} (ProxyCommand of ${name}, ${via})`],
      });
    }
  }
}

function jumpList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Runs `ssh -G [-F f] [-o …] [-l u] [-p p] [-J j] -- host` once per distinct argument list. */
function sshG(d: Destination, ssh: SshOptions, state: State): Promise<SshLookup> {
  const args = ['-G'];
  if (ssh.configFile) args.push('-F', ssh.configFile.value);
  for (const o of ssh.options) args.push('-o', o.value);
  const user = ssh.user?.value ?? d.user;
  const port = ssh.port?.value ?? d.port;
  if (user) args.push('-l', user);
  if (port) args.push('-p', port);
  if (ssh.jump) args.push('-J', ssh.jump.value);
  args.push('--', d.host);
  const key = args.join('\0');
  let pending = state.cache.get(key);
  if (!pending) {
    pending = runSshG(args, state.ctx);
    state.cache.set(key, pending);
  }
  return pending;
}

async function runSshG(args: string[], ctx: ExtractContext): Promise<SshLookup> {
  // ssh -G prints the resolved configuration and exits; it opens no connection (a `Match exec`
  // in the user's config does run, as it would for ssh itself). Bounded in time all the same.
  const signal = AbortSignal.timeout(SSH_G_TIMEOUT_MS);
  try {
    const config = await run(sshGCommand(args), {
      cwd: ctx.cwd,
      env: helperEnv(ctx.env),
      token: tokenFromSignal(signal),
    });
    if (!config.hostname) return { ok: false, missing: false, message: 'ssh -G printed no hostname' };
    return { ok: true, config };
  } catch (err) {
    if (err instanceof ToolMissingError) return { ok: false, missing: true, message: err.message };
    if (err instanceof ProcessError) return { ok: false, missing: false, ...sshErrorProblem(err.stderr, ctx) };
    if (signal.aborted) return { ok: false, missing: false, message: `timed out after ${SSH_G_TIMEOUT_MS / 1000} s` };
    return { ok: false, missing: false, message: (err as Error).message };
  }
}

/** The `ssh -G …` client (STYLE habit 4: built here, run by the one runner). */
export function sshGCommand(args: readonly string[]): CommandSpec<SshConfig> {
  return { command: 'ssh', args, parse: (o) => parseSshGOutput(o.stdout) };
}

/** `ssh -G` output: one `key value` per line, keys lower-case; the first of each key counts (forwards: all). */
export function parseSshGOutput(stdout: string): SshConfig {
  const values = new Map<string, string>();
  const forwards: SshConfigForward[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    if (!values.has(m[1])) values.set(m[1], m[2]);
    // `localforward 8080 [192.168.1.10]:80`, `remoteforward 9000 [h]:80`; a socket target has no
    // brackets, and a dynamic remote forward is `[socks]:0`.
    const f = /^(localforward|remoteforward)$/.exec(m[1]) && /^(\S+)\s+\[([^\]]+)\]:(\d+)$/.exec(m[2]);
    if (f && !(m[1] === 'remoteforward' && f[2] === 'socks' && f[3] === '0')) {
      const kind = m[1] === 'localforward' ? 'LocalForward' : 'RemoteForward';
      forwards.push({ kind, listen: f[1], host: f[2], port: f[3] });
    }
  }
  return {
    hostname: unbracket(values.get('hostname') ?? ''),
    user: values.get('user'),
    port: values.get('port'),
    proxyJump: values.get('proxyjump'),
    proxyCommand: values.get('proxycommand'),
    ...(forwards.length > 0 && values.get('clearallforwardings') !== 'yes' ? { forwards } : {}),
  };
}

/** ssh's own complaint, as a problem with file:line when it names one (`cfg: line 2: Bad configuration option: x`). */
function sshErrorProblem(stderr: string, ctx: ExtractContext): { message: string; problem?: InputProblem } {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Pseudo-terminal will not be allocated/.test(l));
  for (const l of lines) {
    const m = /^(.+?):? line (\d+): (.*)$/.exec(l);
    if (m) {
      const file = expandPath(m[1], ctx.cwd, ctx.home);
      return { message: l, problem: { file, line: Number(m[2]), message: `ssh config: ${m[3]}` } };
    }
    const open = /^Can't open user config file (.+): (.*)$/.exec(l);
    if (open) {
      const file = expandPath(open[1], ctx.cwd, ctx.home);
      return { message: l, problem: { file, line: 1, column: 1, message: `cannot read ssh config: ${open[2]}` } };
    }
  }
  return { message: lines.slice(0, 2).join(' ') || 'ssh -G failed' };
}
