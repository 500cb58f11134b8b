/**
 * Sandboxes (SPEC §1.1, §5, §7): a named instance of a provider (compose, k3d, multipass) made from a
 * template. Providers *build* the commands their tools run (STYLE habit 4) and hand them to the one
 * runner (src/core/exec); the Docker engine's API (dockerode) answers what a CLI would have to be
 * parsed for. Every operation is cancellable (AbortSignal) and reports progress.
 */
import type { WorkspaceConfig } from '../config/types';

export type ProviderKind = 'compose' | 'k3d' | 'multipass';

/** One container, node or VM of a sandbox. */
export interface SandboxMember {
  /** Service name (compose), node name (k3d: `k3d-lab-server-0`), instance name (multipass). */
  name: string;
  role?: string; // `server`, `agent`, `loadbalancer`, a compose service, …
  state: 'running' | 'starting' | 'stopped' | 'exited' | 'missing' | 'unknown';
  /** Docker healthcheck or the provider's readiness; undefined when there is none. */
  health?: 'healthy' | 'unhealthy' | 'starting';
  image?: string;
  /** IPv4/IPv6 addresses the sandbox network gives it. */
  addresses: string[];
  /** `127.0.0.1:5432->5432/tcp` */
  ports: string[];
  /** Container id / VM name for `exec` and logs. */
  id?: string;
}

export interface SandboxStatus {
  name: string;
  provider: ProviderKind;
  /** absent: nothing exists; running: every member runs (and is healthy when it has a check). */
  state: 'absent' | 'creating' | 'running' | 'stopped' | 'degraded' | 'unknown';
  members: SandboxMember[];
  /** Files the product generated for it: kubeconfig, inventory. */
  artifacts: SandboxArtifacts;
  detail?: string;
}

export interface SandboxArtifacts {
  /** `.infra-sandbox/kube/<name>.yaml` (k3d). */
  kubeconfig?: string;
  /** `.infra-sandbox/inventory/<name>.ini` (compose/nodes, multipass). */
  inventory?: string;
  /** What `DOCKER_HOST` a shell for this sandbox should use (compose on a non-default engine). */
  dockerHost?: string;
}

/** What an operation on a sandbox is given. */
export interface SandboxContext {
  /** The workspace folder (where infra-sandbox.yaml is); `.infra-sandbox/` lives here. */
  root: string;
  configFile: string;
  config: WorkspaceConfig;
  /** The sandbox's name (a DNS label) and its entry in the config. */
  name: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  progress?(message: string, fraction?: number): void;
  log?(line: string, stream?: 'stdout' | 'stderr' | 'info'): void;
}

export interface UpResult {
  status: SandboxStatus;
  /** Milliseconds from the start of `up` until every member was running and healthy. */
  timeToReadyMs: number;
}

export interface SandboxProvider {
  readonly kind: ProviderKind;
  /** Creates (or starts) the sandbox and waits until it is ready; refuses with a clear error otherwise. */
  up(ctx: SandboxContext): Promise<UpResult>;
  /** Stops it, keeping its data (named volumes, the cluster, the VMs). */
  stop(ctx: SandboxContext): Promise<SandboxStatus>;
  /** Starts a stopped sandbox. */
  start(ctx: SandboxContext): Promise<UpResult>;
  /** Removes everything it created, data included. */
  destroy(ctx: SandboxContext): Promise<void>;
  /** The real state, from the tool or the engine — never a cache. */
  status(ctx: SandboxContext): Promise<SandboxStatus>;
  /** Log lines of one member (or all), optionally following. */
  logs(ctx: SandboxContext, opts: { member?: string; follow?: boolean; tail?: number }): AsyncIterable<string>;
  /** The argv of an interactive shell in a member (`docker exec -it … /bin/bash`, `multipass shell …`). */
  shellCommand(ctx: SandboxContext, member?: string): Promise<string[]>;
}

/** The label every resource of a sandbox carries (SPEC §7). */
export const SANDBOX_LABEL = 'dev.infra-sandbox.sandbox';
/** The compose project of a sandbox. */
export const projectName = (sandbox: string): string => `isb-${sandbox}`;
