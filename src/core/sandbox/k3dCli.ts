/**
 * The k3d client (STYLE habit 4): builds `k3d` command lines and reads their output; the runner
 * runs them. Names: sandbox `lab` → cluster `isb-lab` → containers `k3d-isb-lab-server-0`, kube
 * context `k3d-isb-lab`.
 *
 * `k3d cluster list -o json` (k3d v5, cmd/cluster/clusterList.go): one compact JSON array of
 * clusters sorted by name, each a k3d `Cluster` (pkg/types/types.go: `name`, `network`, `nodes`,
 * `imageVolume`, …) plus `serversRunning`, `serversCount`, `agentsRunning`, `agentsCount` and
 * `hasLoadbalancer`. A node has `name`, `role` (server | agent | loadbalancer | registry | noRole),
 * `image`, `portMappings` (Docker's `{"6443/tcp":[{"HostIp","HostPort"}]}`), `runtimeLabels`, and the
 * untagged Go fields `State` {`Running`, `Status`, `Started`} and `IP` {`IP`, `Static`}.
 */
import { InfraSandboxError, type CommandSpec } from '../exec';
import { ExitCode } from '../exitCodes';
import type { SandboxMember, SandboxStatus } from './types';

/** k3d refuses cluster names over 32 characters (pkg/types DefaultClusterNameMaxLength). */
export const K3D_CLUSTER_NAME_MAX = 32;

export const k3dClusterName = (sandbox: string): string => `isb-${sandbox}`;
/** The kube context (and cluster) name k3d writes into the kubeconfig. */
export const k3dContextName = (sandbox: string): string => `k3d-${k3dClusterName(sandbox)}`;
export const k3dServerContainer = (sandbox: string, index = 0): string =>
  `k3d-${k3dClusterName(sandbox)}-server-${index}`;

export interface K3dCreateOptions {
  /** Absolute path of the template's k3d Simple config. */
  configFile: string;
  /** A Go duration (`120s`, `5m`). */
  timeout: string;
}

/**
 * `k3d cluster create isb-<name> --config … --kubeconfig-update-default=false
 * --kubeconfig-switch-context=false --wait --timeout …` (SPEC §7): never touches ~/.kube/config.
 */
export function k3dClusterCreate(sandbox: string, opts: K3dCreateOptions): CommandSpec {
  return {
    command: 'k3d',
    args: [
      'cluster',
      'create',
      k3dClusterName(sandbox),
      '--config',
      opts.configFile,
      '--kubeconfig-update-default=false',
      '--kubeconfig-switch-context=false',
      '--wait',
      '--timeout',
      opts.timeout,
    ],
  };
}

export function k3dClusterStart(sandbox: string, timeout: string): CommandSpec {
  return { command: 'k3d', args: ['cluster', 'start', k3dClusterName(sandbox), '--wait', '--timeout', timeout] };
}

export function k3dClusterStop(sandbox: string): CommandSpec {
  return { command: 'k3d', args: ['cluster', 'stop', k3dClusterName(sandbox)] };
}

/** Idempotent: k3d says "No clusters found" and exits 0 when there is nothing to delete. */
export function k3dClusterDelete(sandbox: string): CommandSpec {
  return { command: 'k3d', args: ['cluster', 'delete', k3dClusterName(sandbox)] };
}

export function k3dClusterList(): CommandSpec<K3dCluster[]> {
  return { command: 'k3d', args: ['cluster', 'list', '-o', 'json'], parse: (o) => parseK3dClusterList(o.stdout) };
}

/** The cluster's kubeconfig on stdout (nothing merged anywhere). */
export function k3dKubeconfigGet(sandbox: string): CommandSpec<string> {
  return {
    command: 'k3d',
    args: ['kubeconfig', 'get', k3dClusterName(sandbox)],
    parse: (o) => {
      if (!/\bclusters:/.test(o.stdout)) {
        throw new InfraSandboxError(
          `k3d kubeconfig get ${k3dClusterName(sandbox)} printed no kubeconfig${o.stderr.trim() ? `: ${o.stderr.trim()}` : ''}`,
          ExitCode.usage,
        );
      }
      return o.stdout;
    },
  };
}

/** `docker logs` of one node container (k3d nodes are containers). */
export function dockerLogs(container: string, opts: { follow?: boolean; tail?: number }): CommandSpec {
  const args = ['logs'];
  if (opts.tail !== undefined) args.push('--tail', String(opts.tail));
  if (opts.follow) args.push('--follow');
  args.push(container);
  return { command: 'docker', args };
}

// ---------------------------------------------------------------------------------------------
// Parsing `k3d cluster list -o json`

export interface K3dNode {
  name: string;
  role: string;
  image?: string;
  running: boolean;
  /** Docker's container status: running, exited, created, restarting, paused, dead. */
  status?: string;
  ip?: string;
  /** `127.0.0.1:41223->6443/tcp` */
  ports: string[];
}

export interface K3dCluster {
  name: string;
  serversRunning: number;
  serversCount: number;
  agentsRunning: number;
  agentsCount: number;
  hasLoadbalancer: boolean;
  nodes: K3dNode[];
  network?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseK3dClusterList(stdout: string): K3dCluster[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim() || '[]');
  } catch (err) {
    throw new InfraSandboxError(
      `k3d cluster list -o json printed something that is not JSON (${(err as Error).message}): ${stdout.slice(0, 200)}`,
      ExitCode.usage,
    );
  }
  // k3d prints `null` for a nil slice in some versions.
  if (data === null) return [];
  if (!Array.isArray(data)) {
    throw new InfraSandboxError('k3d cluster list -o json: expected a JSON array of clusters', ExitCode.usage);
  }
  return data.filter(isObject).map(parseCluster);
}

function parseCluster(c: Json): K3dCluster {
  const nodes = (Array.isArray(c.nodes) ? c.nodes : []).filter(isObject).map(parseNode);
  const count = (role: string, running: boolean) =>
    nodes.filter((n) => n.role === role && (!running || n.running)).length;
  return {
    name: str(c.name) ?? '',
    serversRunning: num(c.serversRunning) ?? count('server', true),
    serversCount: num(c.serversCount) ?? count('server', false),
    agentsRunning: num(c.agentsRunning) ?? count('agent', true),
    agentsCount: num(c.agentsCount) ?? count('agent', false),
    hasLoadbalancer: c.hasLoadbalancer === true || nodes.some((n) => n.role === 'loadbalancer'),
    nodes,
    network: isObject(c.network) ? str(c.network.name) : undefined,
  };
}

function parseNode(n: Json): K3dNode {
  const state = isObject(n.State) ? n.State : {};
  const ip = isObject(n.IP) ? str(n.IP.IP) : undefined;
  return {
    name: str(n.name) ?? '',
    role: str(n.role) ?? 'noRole',
    image: str(n.image),
    running: state.Running === true,
    status: str(state.Status),
    ip,
    ports: portsOf(n.portMappings),
  };
}

function portsOf(mappings: unknown): string[] {
  if (!isObject(mappings)) return [];
  const out: string[] = [];
  for (const [containerPort, bindings] of Object.entries(mappings)) {
    for (const b of Array.isArray(bindings) ? bindings.filter(isObject) : []) {
      const host = str(b.HostIp) ?? '0.0.0.0';
      const port = str(b.HostPort) ?? '';
      out.push(`${host}:${port}->${containerPort}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// From a k3d cluster to a sandbox status

/** The roles whose containers make the cluster work (registries are shared, tools nodes transient). */
const CLUSTER_ROLES = new Set(['server', 'agent', 'loadbalancer']);

export function k3dMemberState(node: K3dNode): SandboxMember['state'] {
  if (node.status === 'restarting') return 'starting';
  if (node.running) return 'running';
  if (node.status === 'exited' || node.status === 'dead') return 'exited';
  if (node.status === 'created' || node.status === 'paused') return 'stopped';
  return node.status ? 'stopped' : 'unknown';
}

/** The sandbox state and members from the cluster k3d lists (or its absence). */
export function k3dSandboxState(cluster: K3dCluster | undefined): Pick<SandboxStatus, 'state' | 'members' | 'detail'> {
  if (!cluster) return { state: 'absent', members: [], detail: 'no k3d cluster' };
  const nodes = cluster.nodes.filter((n) => CLUSTER_ROLES.has(n.role));
  const members: SandboxMember[] = nodes.map((n) => ({
    name: n.name,
    role: n.role,
    state: k3dMemberState(n),
    image: n.image,
    addresses: n.ip ? [n.ip] : [],
    ports: n.ports,
    id: n.name,
  }));
  const running = members.filter((m) => m.state === 'running').length;
  const state = members.length === 0 || running === 0 ? 'stopped' : running === members.length ? 'running' : 'degraded';
  const image = nodes.find((n) => n.role === 'server')?.image;
  const counts = `servers ${cluster.serversRunning}/${cluster.serversCount}, agents ${cluster.agentsRunning}/${cluster.agentsCount}`;
  return { state, members, detail: image ? `${counts}; ${image}` : counts };
}
