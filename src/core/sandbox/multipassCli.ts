/**
 * The multipass client (STYLE habit 4): builds `multipass` command lines and reads their JSON; the
 * runner runs them. Names: sandbox `nodes` → instances `isb-nodes-1`, `isb-nodes-2`, …
 *
 * Output formats (canonical/multipass formatters, tests/unit/test_data/formatters/json):
 * - `multipass list --format json` → `{"list":[{"name","state","ipv4":[…],"release"}]}`; the
 *   unreleased Boost.JSON formatter keeps insertion order and adds `"zone":{name,available}`.
 * - `multipass info --format json NAME…` → `{"errors":[],"info":{NAME:{"state","ipv4":[…],
 *   "cpu_count":"2","memory":{"used":N,"total":N},"disks":{…},"release",…}}}`; a stopped instance
 *   has `"ipv4":[]`, `"memory":{}`, `"cpu_count":""`; snapshot entries carry only `snapshots`.
 * States are "Running", "Stopped", "Starting", "Restarting", "Delayed Shutdown", "Suspending",
 * "Suspended", "Deleted", "Unknown" (2018 releases printed them upper-case).
 */
import { InfraSandboxError, type CommandSpec } from '../exec';
import { ExitCode } from '../exitCodes';
import type { SandboxMember } from './types';

/** At most 9 nodes, so that `isb-<name>-<n>` stays a 63-character host name with a 57-character sandbox name. */
export const MULTIPASS_MAX_NODES = 9;
export const MULTIPASS_SANDBOX_NAME_MAX = 63 - 'isb-'.length - '-9'.length;

export const multipassNodeName = (sandbox: string, index: number): string => `isb-${sandbox}-${index}`;

/** The node number of an instance of this sandbox (`isb-nodes-2` → 2), or undefined. */
export function multipassNodeIndex(sandbox: string, instance: string): number | undefined {
  const prefix = `isb-${sandbox}-`;
  if (!instance.startsWith(prefix)) return undefined;
  const rest = instance.slice(prefix.length);
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : undefined;
}

export interface LaunchOptions {
  image: string;
  name: string;
  cpus: number;
  memory: string;
  disk: string;
  /** Seconds multipass waits for the instance (and its cloud-init) to finish launching. */
  timeout: number;
}

/**
 * `multipass launch IMAGE --name … --cpus … --memory … --disk … --timeout … --cloud-init -`: the
 * rendered cloud-init goes in on stdin (the runner's `input`), so it is never written to disk (it
 * holds the cluster token) and a snap-confined multipass need not read the workspace.
 */
export function multipassLaunch(opts: LaunchOptions): CommandSpec {
  return {
    command: 'multipass',
    args: [
      'launch',
      opts.image,
      '--name',
      opts.name,
      '--cpus',
      String(opts.cpus),
      '--memory',
      opts.memory,
      '--disk',
      opts.disk,
      '--timeout',
      String(opts.timeout),
      '--cloud-init',
      '-',
    ],
  };
}

export function multipassList(): CommandSpec<MultipassInstance[]> {
  return {
    command: 'multipass',
    args: ['list', '--format', 'json'],
    parse: (o) => parseMultipassList(o.stdout),
  };
}

export function multipassInfo(names: readonly string[]): CommandSpec<Record<string, MultipassInfo>> {
  return {
    command: 'multipass',
    args: ['info', '--format', 'json', ...names],
    parse: (o) => parseMultipassInfo(o.stdout),
  };
}

export function multipassStart(names: readonly string[]): CommandSpec {
  return { command: 'multipass', args: ['start', ...names] };
}

export function multipassStop(names: readonly string[]): CommandSpec {
  return { command: 'multipass', args: ['stop', ...names] };
}

/** Deletes and purges: nothing is left to `multipass recover`. */
export function multipassDelete(names: readonly string[]): CommandSpec {
  return { command: 'multipass', args: ['delete', '--purge', ...names] };
}

/** `multipass exec NAME -- ARGV…`: an argument vector inside the VM, no shell on this side. */
export function multipassExec(name: string, argv: readonly string[]): CommandSpec {
  return { command: 'multipass', args: ['exec', name, '--', ...argv] };
}

/** A node's system journal (its "logs"). */
export function multipassJournal(name: string, opts: { follow?: boolean; tail?: number }): CommandSpec {
  const argv = ['sudo', 'journalctl', '--no-pager', '-n', String(opts.tail ?? 200)];
  if (opts.follow) argv.push('-f');
  return multipassExec(name, argv);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface MultipassInstance {
  name: string;
  state: string;
  ipv4: string[];
  release?: string;
}

export interface MultipassInfo {
  state: string;
  ipv4: string[];
  release?: string;
  imageRelease?: string;
  cpus?: number;
  memoryTotal?: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];

function parseJson(stdout: string, what: string): Json {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch (err) {
    throw new InfraSandboxError(
      `${what} printed something that is not JSON (${(err as Error).message}): ${stdout.slice(0, 200)}`,
      ExitCode.usage,
    );
  }
  if (!isObject(data)) throw new InfraSandboxError(`${what}: expected a JSON object`, ExitCode.usage);
  return data;
}

export function parseMultipassList(stdout: string): MultipassInstance[] {
  const data = parseJson(stdout, 'multipass list --format json');
  if (!Array.isArray(data.list)) {
    throw new InfraSandboxError('multipass list --format json: no "list" array in its output', ExitCode.usage);
  }
  return data.list.filter(isObject).map((i) => ({
    name: str(i.name) ?? '',
    state: str(i.state) ?? 'Unknown',
    ipv4: strings(i.ipv4),
    release: str(i.release),
  }));
}

export function parseMultipassInfo(stdout: string): Record<string, MultipassInfo> {
  const data = parseJson(stdout, 'multipass info --format json');
  const info = isObject(data.info) ? data.info : {};
  const out: Record<string, MultipassInfo> = {};
  for (const [name, entry] of Object.entries(info)) {
    // Snapshot entries (`multipass info` of snapshots) carry only `snapshots`: not an instance.
    if (!isObject(entry) || entry.state === undefined) continue;
    const cpus = Number(entry.cpu_count);
    const memory = isObject(entry.memory) ? entry.memory.total : undefined;
    out[name] = {
      state: str(entry.state) ?? 'Unknown',
      ipv4: strings(entry.ipv4),
      release: str(entry.release),
      imageRelease: str(entry.image_release),
      cpus: entry.cpu_count !== '' && Number.isInteger(cpus) ? cpus : undefined,
      memoryTotal: typeof memory === 'number' ? memory : undefined,
    };
  }
  return out;
}

/** A multipass instance state as a member state. */
export function multipassMemberState(state: string): SandboxMember['state'] {
  switch (state.toLowerCase()) {
    case 'running':
    case 'delayed shutdown':
      return 'running';
    case 'starting':
    case 'restarting':
      return 'starting';
    case 'stopped':
    case 'suspended':
    case 'suspending':
      return 'stopped';
    case 'deleted':
      return 'missing';
    default:
      return 'unknown';
  }
}
