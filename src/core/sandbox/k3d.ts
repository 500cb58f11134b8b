/**
 * The k3d provider (SPEC §7): a sandbox is the k3d cluster `isb-<name>` made from the template's
 * k3d Simple config. Its kubeconfig is written to `.infra-sandbox/kube/<name>.yaml` (0600) from
 * `k3d kubeconfig get` — never merged into ~/.kube/config, the current context never changed — and
 * only after the guard has placed its API server outside production.
 *
 * Every k3d call runs with KUBECONFIG pointing at the sandbox's own file: `k3d cluster delete`
 * rewrites "the default kubeconfig" to remove the cluster's entries, and that must never be the
 * user's ~/.kube/config.
 *
 * A create that fails or is cancelled midway leaves nothing behind: the provider deletes the
 * partial cluster (k3d's own rollback does not run when k3d is killed) and the kubeconfig file.
 */
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, InfraSandboxError, ProcessError, type CommandSpec } from '../exec';
import { ExitCode } from '../exitCodes';
import { guardTargets } from '../guard/guard';
import { hostOfSpec, hostsOfUrl } from '../guard/hostspec';
import type { Logger } from '../log';
import {
  dockerLogs,
  K3D_CLUSTER_NAME_MAX,
  k3dClusterCreate,
  k3dClusterDelete,
  k3dClusterList,
  k3dClusterName,
  k3dClusterStart,
  k3dClusterStop,
  k3dKubeconfigGet,
  k3dSandboxState,
  k3dServerContainer,
  type K3dCluster,
} from './k3dCli';
import {
  assertSandboxName,
  GuardRefusal,
  lastLines,
  productionChains,
  removeFile,
  runFor,
  sandboxEntry,
  streamLines,
  chooseNodes,
  throwIfCancelled,
  writeFileAtomic,
} from './providerSupport';
import { DockerEngine, type ContainerDetails } from './docker';
import { loadK3dTemplate, type K3dTemplate } from './k3dTemplate';
import { resolveTemplate } from './templates';
import type { SandboxContext, SandboxMember, SandboxProvider, SandboxStatus, UpResult } from './types';

/** `.infra-sandbox/kube/<name>.yaml` in the workspace. */
export function k3dKubeconfigPath(root: string, sandbox: string): string {
  return join(root, '.infra-sandbox', 'kube', `${sandbox}.yaml`);
}

export interface K3dProviderOptions {
  /** Where the runner logs command lines (debug) and failing stderr (error). */
  logger?: Logger;
}

export class K3dProvider implements SandboxProvider {
  readonly kind = 'k3d' as const;

  constructor(private readonly options: K3dProviderOptions = {}) {}

  async up(ctx: SandboxContext): Promise<UpResult> {
    const started = performance.now();
    const template = await this.prepare(ctx);
    await guardDockerEngine(ctx);
    const cluster = k3dClusterName(ctx.name);

    ctx.progress?.(`looking for k3d cluster ${cluster}`, 0);
    const before = await this.find(ctx);
    let created = false;
    if (!before) {
      ctx.progress?.(`creating k3d cluster ${cluster} (${template.image ?? 'k3d default image'})`, 0.05);
      try {
        await this.k3d(ctx, k3dClusterCreate(ctx.name, { configFile: template.configFile, timeout: template.timeout }));
      } catch (err) {
        return this.abandonCreate(ctx, err);
      }
      created = true;
    } else if (k3dSandboxState(before).state !== 'running') {
      ctx.progress?.(`starting k3d cluster ${cluster}`, 0.05);
      await this.k3d(ctx, k3dClusterStart(ctx.name, template.timeout));
    }

    ctx.progress?.('writing the sandbox kubeconfig', 0.9);
    try {
      await this.writeKubeconfig(ctx, created);
    } catch (err) {
      if (created && !(err instanceof GuardRefusal)) return this.abandonCreate(ctx, err);
      throw err;
    }
    const status = await this.status(ctx);
    return { status, timeToReadyMs: Math.round(performance.now() - started) };
  }

  async start(ctx: SandboxContext): Promise<UpResult> {
    const started = performance.now();
    const template = await this.prepare(ctx);
    await guardDockerEngine(ctx);
    if (!(await this.find(ctx))) {
      throw new InfraSandboxError(
        `sandbox "${ctx.name}" does not exist (no k3d cluster ${k3dClusterName(ctx.name)}); create it with \`infra-sandbox sandbox up ${ctx.name}\``,
        ExitCode.usage,
      );
    }
    ctx.progress?.(`starting k3d cluster ${k3dClusterName(ctx.name)}`, 0.05);
    await this.k3d(ctx, k3dClusterStart(ctx.name, template.timeout));
    await this.writeKubeconfig(ctx, false);
    const status = await this.status(ctx);
    return { status, timeToReadyMs: Math.round(performance.now() - started) };
  }

  async stop(ctx: SandboxContext): Promise<SandboxStatus> {
    this.checkName(ctx);
    sandboxEntry(ctx, 'k3d');
    if (await this.find(ctx)) {
      ctx.progress?.(`stopping k3d cluster ${k3dClusterName(ctx.name)}`);
      await this.k3d(ctx, k3dClusterStop(ctx.name));
    }
    return this.status(ctx);
  }

  async destroy(ctx: SandboxContext): Promise<void> {
    this.checkName(ctx);
    sandboxEntry(ctx, 'k3d');
    ctx.progress?.(`deleting k3d cluster ${k3dClusterName(ctx.name)}`);
    await this.k3d(ctx, k3dClusterDelete(ctx.name));
    removeFile(k3dKubeconfigPath(ctx.root, ctx.name));
  }

  async status(ctx: SandboxContext): Promise<SandboxStatus> {
    this.checkName(ctx);
    const cluster = await this.find(ctx);
    const kubeconfig = k3dKubeconfigPath(ctx.root, ctx.name);
    const state = k3dSandboxState(cluster);
    return {
      name: ctx.name,
      provider: 'k3d',
      ...state,
      members: cluster ? await withContainers(ctx, state.members) : state.members,
      artifacts: cluster && existsSync(kubeconfig) ? { kubeconfig } : {},
    };
  }

  async *logs(ctx: SandboxContext, opts: { member?: string; follow?: boolean; tail?: number }): AsyncIterable<string> {
    const status = await this.status(ctx);
    if (status.state === 'absent') {
      throw new InfraSandboxError(`sandbox "${ctx.name}" does not exist: there are no logs`, ExitCode.usage);
    }
    const members = chooseNodes(ctx, status.members, opts.member);
    yield* streamLines(
      ctx,
      members.map((m) => ({ label: m.name, spec: dockerLogs(m.name, { follow: opts.follow, tail: opts.tail }) })),
    );
  }

  async shellCommand(ctx: SandboxContext, member?: string): Promise<string[]> {
    this.checkName(ctx);
    const node = member ?? k3dServerContainer(ctx.name);
    if (!node.startsWith(`k3d-${k3dClusterName(ctx.name)}-`)) {
      throw new InfraSandboxError(`${JSON.stringify(node)} is not a node of sandbox "${ctx.name}"`, ExitCode.usage);
    }
    return ['docker', 'exec', '-it', node, 'sh'];
  }

  // -------------------------------------------------------------------------------------------

  private checkName(ctx: SandboxContext): void {
    assertSandboxName(
      ctx.name,
      K3D_CLUSTER_NAME_MAX - 'isb-'.length,
      `k3d cluster names are at most ${K3D_CLUSTER_NAME_MAX} characters and this one is isb-<name>`,
    );
  }

  private async prepare(ctx: SandboxContext): Promise<K3dTemplate> {
    this.checkName(ctx);
    const entry = sandboxEntry(ctx, 'k3d');
    return loadK3dTemplate(resolveTemplate(entry.template, ctx.root, ctx.env));
  }

  /** Runs k3d with KUBECONFIG set to the sandbox's own file (see the header). */
  private k3d<T>(ctx: SandboxContext, spec: CommandSpec<T>, quiet = false): Promise<T> {
    return runFor(ctx, spec, {
      env: { ...ctx.env, KUBECONFIG: k3dKubeconfigPath(ctx.root, ctx.name) },
      quiet,
      logger: this.options.logger,
    });
  }

  private async find(ctx: SandboxContext): Promise<K3dCluster | undefined> {
    const clusters = await this.k3d(ctx, k3dClusterList(), true);
    return clusters.find((c) => c.name === k3dClusterName(ctx.name));
  }

  /**
   * Fetches the kubeconfig into a pending file (0600), lets the guard place its API server, and
   * only then gives it its name. A production server refuses (exit 3) and, when this call created
   * the cluster, deletes it.
   */
  private async writeKubeconfig(ctx: SandboxContext, created: boolean): Promise<void> {
    throwIfCancelled(ctx, 'sandbox up');
    const text = await this.k3d(ctx, k3dKubeconfigGet(ctx.name), true);
    const file = k3dKubeconfigPath(ctx.root, ctx.name);
    const pending = `${file}.pending`;
    writeFileAtomic(pending, text, 0o600);
    try {
      const { verdict, problems } = await guardTargets(
        { kubeconfig: pending },
        { cwd: ctx.root, env: ctx.env, config: ctx.config },
      );
      if (problems.length > 0) {
        const p = problems[0];
        throw new InfraSandboxError(
          `the kubeconfig k3d printed for ${k3dClusterName(ctx.name)} cannot be read (${p.file}:${p.line}: ${p.message}); the guard cannot place its API server`,
          ExitCode.usage,
        );
      }
      if (verdict.verdict === 'block') {
        removeFile(pending);
        let fate = 'The existing cluster was left as it is; no kubeconfig was written.';
        if (created) {
          const cleanup = await this.deleteQuietly(ctx);
          fate = cleanup
            ? `Deleting the cluster failed too (${cleanup}); remove it with \`k3d cluster delete ${k3dClusterName(ctx.name)}\`. No kubeconfig was written.`
            : `The cluster was deleted (k3d cluster delete ${k3dClusterName(ctx.name)}) and no kubeconfig was written.`;
        }
        removeFile(file);
        throw new GuardRefusal(
          `sandbox "${ctx.name}" refused: its kubeconfig points at production.\n${productionChains(verdict)}\n${fate}`,
          verdict,
        );
      }
      writeFileAtomic(file, text, 0o600);
    } finally {
      removeFile(pending);
    }
  }

  /** After a failed or cancelled create: delete what k3d made, remove the kubeconfig, say what happened. */
  private async abandonCreate(ctx: SandboxContext, err: unknown): Promise<never> {
    const cluster = k3dClusterName(ctx.name);
    ctx.progress?.(`removing the partial cluster ${cluster}`);
    const cleanup = await this.deleteQuietly(ctx);
    removeFile(k3dKubeconfigPath(ctx.root, ctx.name));
    const fate = cleanup
      ? `Deleting the partial cluster failed too (${cleanup}); remove it with \`k3d cluster delete ${cluster}\`.`
      : `Nothing was left behind: the partial cluster was deleted (k3d cluster delete ${cluster}) and no kubeconfig was written.`;
    if (err instanceof CancelledError) {
      throw new CancelledError(`sandbox up ${ctx.name} (${fate.replace(/\.$/, '')})`);
    }
    if (err instanceof ProcessError) {
      const how = err.signal ? `was killed by ${err.signal}` : `exited with code ${err.processExitCode}`;
      const said = lastLines(err.stderr, 6);
      throw new InfraSandboxError(
        `k3d could not create sandbox "${ctx.name}": k3d cluster create ${cluster} ${how}${
          said.length ? `:\n${said.map((l) => `  ${l}`).join('\n')}` : ''
        }\n${fate}`,
        err.exitCode,
      );
    }
    if (err instanceof InfraSandboxError) throw new InfraSandboxError(`${err.message}\n${fate}`, err.exitCode);
    throw err;
  }

  /** `k3d cluster delete`, even when the operation was cancelled; returns the failure, if any. */
  private async deleteQuietly(ctx: SandboxContext): Promise<string | undefined> {
    try {
      await this.k3d({ ...ctx, signal: undefined }, k3dClusterDelete(ctx.name));
      return undefined;
    } catch (err) {
      return err instanceof ProcessError ? (lastLines(err.stderr, 1)[0] ?? err.message) : (err as Error).message;
    }
  }
}

/**
 * k3d creates the cluster on whatever engine DOCKER_HOST names: a remote engine must not be a
 * production machine. (A local socket is the local engine.)
 */
async function guardDockerEngine(ctx: SandboxContext): Promise<void> {
  const dockerHost = ctx.env.DOCKER_HOST?.trim();
  if (!dockerHost || /^(unix|npipe|fd):/i.test(dockerHost)) return;
  const hosts = hostsOfUrl(dockerHost);
  const { verdict } = await guardTargets(
    { hosts: hosts.length > 0 ? hosts : [hostOfSpec(dockerHost)] },
    { cwd: ctx.root, env: ctx.env, config: ctx.config },
  );
  if (verdict.verdict === 'block') {
    throw new GuardRefusal(
      `sandbox "${ctx.name}" refused: k3d would run the cluster on the Docker engine at DOCKER_HOST=${dockerHost}, which is production.\n${productionChains(verdict)}\nNothing was created.`,
      verdict,
    );
  }
}

/**
 * k3d's nodes are containers: the engine's API (dockerode) adds what `cluster list` does not say —
 * image, published ports, health, the container id, addresses on every network. Nodes are found by
 * k3d's own label `k3d.cluster`. Without a reachable engine the list's view stands as it is.
 */
async function withContainers(ctx: SandboxContext, members: SandboxMember[]): Promise<SandboxMember[]> {
  let containers: ContainerDetails[];
  try {
    containers = await new DockerEngine(ctx.env).containers({ 'k3d.cluster': k3dClusterName(ctx.name) });
  } catch {
    return members;
  }
  const byName = new Map(containers.map((c) => [c.name, c]));
  return members.map((m) => {
    const c = byName.get(m.name);
    if (!c) return m;
    const addresses = c.networks.flatMap((n) => [n.ipv4, n.ipv6].filter((a): a is string => Boolean(a)));
    return {
      ...m,
      image: c.image,
      ports: c.ports,
      id: c.id,
      addresses: addresses.length ? addresses : m.addresses,
      ...(c.health ? { health: c.health } : {}),
      ...(c.state !== 'running' && m.state === 'running' ? { state: 'stopped' as const } : {}),
    };
  });
}
