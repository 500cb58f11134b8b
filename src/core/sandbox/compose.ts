/**
 * The compose provider (SPEC §7): a sandbox is the Compose project `isb-<name>` of a template's
 * compose file plus an override the provider writes to `.infra-sandbox/compose/<name>.override.yaml`,
 * which labels every container (and the named volumes and networks) `dev.infra-sandbox.sandbox=<name>`.
 * Compose (v2, v1 or Podman's) creates, stops, starts and removes; the engine's API answers everything
 * else — containers are found by label, never by name, and `up` waits for health through the API
 * because Compose v1 has no `--wait`.
 *
 * The sandbox's node count (templates/compose/nodes) reaches Compose as the variable `ISB_NODES`
 * (the highest node number in the config's `groups`, default 3), set on every Compose command.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { tokenFromSignal } from '../cancellation';
import type { SandboxConfig } from '../config/types';
import { CancelledError, InfraSandboxError, run, which, type CommandSpec } from '../exec';
import { ExitCode } from '../exitCodes';
import { silentLogger, type Logger } from '../log';
import {
  composeDown,
  composeStart,
  composeStop,
  composeUp,
  findComposeTool,
  type ComposeProject,
  type ComposeTool,
} from './composeCommands';
import { composeOverride, findComposeFile, readComposeFile, type ComposeModel } from './composeFile';
import { inventoryPath, nodeContainers, nodeCount, renderInventory } from './composeInventory';
import { composeStatus, describe, memberName, readiness } from './composeStatus';
import { COMPOSE_PROJECT_LABEL, DockerEngine, type ContainerDetails } from './docker';
import { checkName } from './service';
import { resolveTemplate } from './templates';
import {
  projectName,
  SANDBOX_LABEL,
  type SandboxContext,
  type SandboxProvider,
  type SandboxStatus,
  type UpResult,
} from './types';

/** The variable that carries the node count to the template (`scale: ${ISB_NODES:-3}`). */
export const NODES_ENV = 'ISB_NODES';

export interface ComposeProviderOptions {
  log?: Logger;
  /** How long `up`/`start` wait for every service to be running and healthy (default 5 minutes). */
  readyTimeoutMs?: number;
  /** Poll interval of the health watch, besides the engine's events (default 500 ms). */
  pollIntervalMs?: number;
  /** Log lines of a failed service quoted in the error (default 20). */
  failureLogLines?: number;
}

/** Everything an operation needs, worked out (and checked) before anything runs. */
interface Prepared {
  entry: SandboxConfig;
  templateDir: string;
  model: ComposeModel;
  overrideFile: string;
  labels: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

export class ComposeProvider implements SandboxProvider {
  readonly kind = 'compose' as const;
  private readonly log: Logger;
  private readonly readyTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly failureLogLines: number;
  /** The Compose found for a PATH (probing `docker compose version` costs a process). */
  private readonly tools = new Map<string, Promise<ComposeTool>>();

  constructor(options: ComposeProviderOptions = {}) {
    this.log = options.log ?? silentLogger;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 5 * 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.failureLogLines = options.failureLogLines ?? 20;
  }

  async up(ctx: SandboxContext): Promise<UpResult> {
    const started = Date.now();
    const p = this.prepare(ctx);
    const [engine, project] = await this.engineAndProject(ctx, p);
    this.writeOverride(p);
    ctx.progress?.(`creating ${projectName(ctx.name)}`);
    await this.compose(ctx, p, composeUp(project));
    const status = await this.ready(ctx, p, engine, started);
    return { status, timeToReadyMs: Date.now() - started };
  }

  async start(ctx: SandboxContext): Promise<UpResult> {
    const started = Date.now();
    const p = this.prepare(ctx);
    const [engine, project] = await this.engineAndProject(ctx, p);
    if ((await engine.containers(p.labels)).length === 0) {
      throw new InfraSandboxError(
        `sandbox ${ctx.name} does not exist, so there is nothing to start: \`up\` creates it`,
        ExitCode.usage,
      );
    }
    this.writeOverride(p);
    ctx.progress?.(`starting ${projectName(ctx.name)}`);
    await this.compose(ctx, p, composeStart(project));
    const status = await this.ready(ctx, p, engine, started);
    return { status, timeToReadyMs: Date.now() - started };
  }

  async stop(ctx: SandboxContext): Promise<SandboxStatus> {
    const p = this.prepare(ctx);
    const [engine, project] = await this.engineAndProject(ctx, p);
    this.writeOverride(p);
    ctx.progress?.(`stopping ${projectName(ctx.name)} (named volumes are kept)`);
    await this.compose(ctx, p, composeStop(project));
    return this.statusFrom(ctx, engine, p.model);
  }

  /** `down -v --remove-orphans`, then whatever still carries the labels is removed through the API. */
  async destroy(ctx: SandboxContext): Promise<void> {
    checkName(ctx.name);
    const engine = await this.engine(ctx);
    const labels = sandboxLabels(ctx.name);
    let p: Prepared | undefined;
    try {
      p = this.prepare(ctx);
    } catch (err) {
      // The template is gone or broken: the engine still knows what the sandbox is made of.
      ctx.log?.(
        `the template cannot be read (${(err as Error).message}); removing by label through the engine`,
        'info',
      );
    }
    const project = p ? await this.project(ctx, p).catch((err: Error) => err) : undefined;
    if (project instanceof Error) {
      ctx.log?.(`${project.message}; removing by label through the engine`, 'info');
    } else if (p && project) {
      this.writeOverride(p);
      ctx.progress?.(`removing ${projectName(ctx.name)} and its volumes`);
      await this.compose(ctx, p, composeDown(project));
    }
    const left = await engine.removeAll(labels);
    if (left.containers + left.networks + left.volumes > 0) {
      ctx.log?.(
        `removed through the engine: ${left.containers} containers, ${left.networks} networks, ${left.volumes} volumes`,
        'info',
      );
    }
    rmSync(this.overridePath(ctx), { force: true });
    rmSync(inventoryPath(ctx.root, ctx.name), { force: true });
  }

  async status(ctx: SandboxContext): Promise<SandboxStatus> {
    checkName(ctx.name);
    const engine = new DockerEngine(ctx.env);
    let model: ComposeModel | undefined;
    try {
      model = this.prepare(ctx).model;
    } catch {
      // Status comes from the engine; the template only adds which services are missing.
    }
    return this.statusFrom(ctx, engine, model);
  }

  async *logs(ctx: SandboxContext, opts: { member?: string; follow?: boolean; tail?: number }): AsyncIterable<string> {
    checkName(ctx.name);
    const engine = new DockerEngine(ctx.env);
    const all = await engine.containers(sandboxLabels(ctx.name));
    const chosen = opts.member ? all.filter((c) => matchesMember(c, opts.member as string, all)) : all;
    if (chosen.length === 0) {
      throw new InfraSandboxError(
        opts.member
          ? `sandbox ${ctx.name} has no member ${JSON.stringify(opts.member)}; members: ${all.map((c) => memberName(c, all)).join(', ') || 'none'}`
          : `sandbox ${ctx.name} has no containers`,
        ExitCode.usage,
      );
    }
    // Aborted when the consumer stops (or the operation is cancelled): ends the followed streams.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const prefix = chosen.length > 1;
    const sources = chosen.map((c) => {
      const name = memberName(c, all);
      return map(engine.logs(c.id, { follow: opts.follow, tail: opts.tail, signal: stop.signal }), (l) =>
        prefix ? `${name} | ${l.line}` : l.line,
      );
    });
    try {
      yield* merge(sources);
    } finally {
      ctx.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  async shellCommand(ctx: SandboxContext, member?: string): Promise<string[]> {
    checkName(ctx.name);
    const engine = new DockerEngine(ctx.env);
    const all = await engine.containers(sandboxLabels(ctx.name));
    const candidates = member ? all.filter((c) => matchesMember(c, member, all)) : all;
    const target = candidates.find((c) => c.state === 'running');
    if (!target) {
      const which = member ? `member ${JSON.stringify(member)}` : 'member';
      throw new InfraSandboxError(
        `sandbox ${ctx.name} has no running ${which} to open a shell in${all.length ? ` (members: ${all.map((c) => `${memberName(c, all)} ${describe(c)}`).join(', ')})` : ''}`,
        ExitCode.usage,
      );
    }
    const shell = (await engine.execExitCode(target.id, ['test', '-x', '/bin/bash'])) === 0 ? '/bin/bash' : '/bin/sh';
    const cli = which('docker', ctx.env.PATH) || !which('podman', ctx.env.PATH) ? 'docker' : 'podman';
    const host = ctx.env.DOCKER_HOST ? ['-H', ctx.env.DOCKER_HOST] : [];
    return [cli, ...host, 'exec', '-it', target.name, shell];
  }

  // -------------------------------------------------------------------------------------------

  /** Name, config entry, template and compose file, checked before anything runs (exit 2 otherwise). */
  private prepare(ctx: SandboxContext): Prepared {
    checkName(ctx.name);
    const entry = ctx.config.sandboxes?.[ctx.name];
    if (!entry)
      throw new InfraSandboxError(`no sandbox named ${JSON.stringify(ctx.name)} in ${ctx.configFile}`, ExitCode.usage);
    if (entry.provider !== 'compose') {
      throw new InfraSandboxError(
        `sandbox ${ctx.name} is a ${entry.provider} sandbox, not a compose one`,
        ExitCode.usage,
      );
    }
    const templateDir = resolveTemplate(entry.template, ctx.root, ctx.env);
    const model = readComposeFile(findComposeFile(templateDir));
    return {
      entry,
      templateDir,
      model,
      overrideFile: this.overridePath(ctx),
      labels: sandboxLabels(ctx.name),
      env: { ...ctx.env, [NODES_ENV]: String(nodeCount(entry.groups)) },
    };
  }

  private overridePath(ctx: SandboxContext): string {
    return join(ctx.root, '.infra-sandbox', 'compose', `${ctx.name}.override.yaml`);
  }

  private writeOverride(p: Prepared): void {
    mkdirSync(dirname(p.overrideFile), { recursive: true });
    writeFileSync(p.overrideFile, composeOverride(p.model, { [SANDBOX_LABEL]: p.labels[SANDBOX_LABEL] }));
  }

  /** The engine answers and a Compose is installed — both asked at once; the engine's absence is reported first. */
  private async engineAndProject(ctx: SandboxContext, p: Prepared): Promise<[DockerEngine, ComposeProject]> {
    const [engine, project] = await Promise.allSettled([this.engine(ctx), this.project(ctx, p)]);
    if (engine.status === 'rejected') throw engine.reason;
    if (project.status === 'rejected') throw project.reason;
    return [engine.value, project.value];
  }

  private async engine(ctx: SandboxContext): Promise<DockerEngine> {
    const engine = new DockerEngine(ctx.env);
    await engine.engineAvailable();
    return engine;
  }

  private async project(ctx: SandboxContext, p: Prepared): Promise<ComposeProject> {
    const key = ctx.env.PATH ?? '';
    let tool = this.tools.get(key);
    if (!tool) {
      tool = findComposeTool(ctx.env);
      this.tools.set(key, tool);
      tool.catch(() => this.tools.delete(key));
    }
    return { tool: await tool, project: projectName(ctx.name), files: [p.model.file, p.overrideFile] };
  }

  /** Runs one Compose command; its output goes to the operation's log as it comes. */
  private async compose(ctx: SandboxContext, p: Prepared, spec: CommandSpec): Promise<void> {
    await run(spec, {
      cwd: ctx.root,
      env: p.env,
      token: ctx.signal ? tokenFromSignal(ctx.signal) : undefined,
      log: this.log,
      onStdoutLine: (line) => ctx.log?.(line, 'stdout'),
      onStderrLine: (line) => ctx.log?.(line, 'stderr'),
    });
  }

  /**
   * Watches the containers until every service started by `up` runs and is healthy (or has finished,
   * for one-shot jobs), reporting each member's changes; a member that turns unhealthy, exits or
   * restarts fails the operation with its last log lines. Then writes the inventory.
   */
  private async ready(ctx: SandboxContext, p: Prepared, engine: DockerEngine, started: number): Promise<SandboxStatus> {
    const expected = p.model.services.filter((s) => s.profiles.length === 0).map((s) => s.name);
    const reported = new Map<string, string>();
    const deadline = started + this.readyTimeoutMs;
    let last: ContainerDetails[] = [];
    for await (const containers of engine.watch(p.labels, { signal: ctx.signal, intervalMs: this.pollIntervalMs })) {
      last = containers;
      const state = readiness(containers, expected);
      const ready = containers.filter(
        (c) => c.state === 'running' && c.health !== 'starting' && c.health !== 'unhealthy',
      ).length;
      for (const c of containers) {
        const m = memberName(c, containers);
        const now = describe(c);
        if (reported.get(m) === now) continue;
        reported.set(m, now);
        ctx.log?.(`${m}: ${now}`, 'info');
        ctx.progress?.(`${m}: ${now}`, containers.length ? ready / containers.length : undefined);
      }
      if (state.kind === 'failed') throw await this.failure(ctx, engine, state.member, state.container, state.reason);
      if (state.kind === 'ready') {
        await this.writeInventory(ctx, p, containers);
        return this.statusFrom(ctx, engine, p.model, containers);
      }
      if (Date.now() > deadline) {
        throw new InfraSandboxError(
          `sandbox ${ctx.name} was not ready after ${Math.round(this.readyTimeoutMs / 1000)} s; still waiting for ${state.waitingFor.join(', ')}. ` +
            `It was left as it is: see \`infra-sandbox sandbox logs ${ctx.name}\`, or remove it with \`infra-sandbox sandbox destroy ${ctx.name}\`.`,
          ExitCode.usage,
        );
      }
    }
    if (ctx.signal?.aborted) throw new CancelledError(`sandbox ${ctx.name}: waiting for health`);
    throw new InfraSandboxError(
      `sandbox ${ctx.name}: the engine stopped answering (${last.length} containers seen)`,
      ExitCode.toolMissing,
    );
  }

  private async failure(
    ctx: SandboxContext,
    engine: DockerEngine,
    member: string,
    c: ContainerDetails,
    reason: string,
  ): Promise<InfraSandboxError> {
    const lines: string[] = [];
    try {
      for await (const l of engine.logs(c.id, { tail: this.failureLogLines })) lines.push(`  ${l.line}`);
    } catch {
      lines.push('  (the logs could not be read)');
    }
    const service = c.service ?? member;
    const which = member === service ? `container ${c.name}` : `${member}, container ${c.name}`;
    return new InfraSandboxError(
      `sandbox ${ctx.name}: service ${service} (${which}) ${reason}.\n` +
        `Its last log lines:\n${lines.join('\n') || '  (none)'}\n` +
        `The sandbox was left as it is: see \`infra-sandbox sandbox logs ${ctx.name}\`, or remove it with \`infra-sandbox sandbox destroy ${ctx.name}\`.`,
      ExitCode.usage,
    );
  }

  /** `.infra-sandbox/inventory/<name>.ini`, when the template marks services as Ansible nodes. */
  private async writeInventory(ctx: SandboxContext, p: Prepared, containers: ContainerDetails[]): Promise<void> {
    const nodes = nodeContainers(containers);
    const file = inventoryPath(ctx.root, ctx.name);
    if (nodes.length === 0) {
      if (p.entry.groups)
        ctx.log?.(`groups are ignored: template ${p.entry.template} marks no service as Ansible nodes`, 'info');
      return;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      renderInventory(nodes, {
        sandbox: ctx.name,
        template: p.entry.template,
        groups: p.entry.groups,
        dockerHost: ctx.env.DOCKER_HOST,
      }),
    );
    ctx.log?.(`inventory: ${relative(ctx.root, file)} (${nodes.length} nodes)`, 'info');
  }

  private async statusFrom(
    ctx: SandboxContext,
    engine: DockerEngine,
    model: ComposeModel | undefined,
    containers?: ContainerDetails[],
  ): Promise<SandboxStatus> {
    const list = containers ?? (await engine.containers(sandboxLabels(ctx.name)));
    const inventory = inventoryPath(ctx.root, ctx.name);
    const expected = model?.services.filter((s) => s.profiles.length === 0).map((s) => s.name);
    return composeStatus(ctx.name, list, expected, {
      ...(list.length && existsSync(inventory) ? { inventory } : {}),
      ...(ctx.env.DOCKER_HOST ? { dockerHost: ctx.env.DOCKER_HOST } : {}),
    });
  }
}

/** The labels that pick a compose sandbox's resources: ours and Compose's project (a k3d sandbox of the same name has only ours). */
export function sandboxLabels(name: string): Record<string, string> {
  return { [SANDBOX_LABEL]: name, [COMPOSE_PROJECT_LABEL]: projectName(name) };
}

function matchesMember(c: ContainerDetails, wanted: string, all: readonly ContainerDetails[]): boolean {
  return (
    memberName(c, all) === wanted ||
    c.service === wanted ||
    c.name === wanted ||
    (/^[0-9a-f]{12,64}$/.test(wanted) && c.id.startsWith(wanted))
  );
}

async function* map<T, U>(source: AsyncIterable<T>, fn: (t: T) => U): AsyncGenerator<U> {
  for await (const item of source) yield fn(item);
}

/** Interleaves several async iterables in arrival order; ends when all have ended. */
async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => iterators[i].next().then((result) => ({ i, result }));
  const pending = new Map(iterators.map((_, i) => [i, next(i)]));
  try {
    while (pending.size) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pending.set(i, next(i));
      yield result.value;
    }
  } finally {
    // Not awaited: a source blocked on a followed stream ends when the caller aborts its signal.
    for (const i of pending.keys()) void iterators[i].return?.(undefined)?.catch(() => undefined);
  }
}
