/**
 * The multipass provider (SPEC §7): a sandbox is the VMs `isb-<name>-1…N` of its template, launched
 * in parallel, each from its own cloud-init (rendered per node and passed on stdin). Their addresses
 * come from `multipass info --format json`; the guard checks every one of them before the
 * generated inventory `.infra-sandbox/inventory/<name>.ini` is written and before anything is run
 * in the nodes (the template's `afterLaunch` steps, e.g. joining k3s agents to the server).
 *
 * Nothing is left half-made: a launch that fails or is cancelled midway, a production address, or
 * a failing afterLaunch step deletes (and purges) every node this `up` created and removes the
 * inventory. Nodes that existed before are never deleted by `up`/`start`: on a production address
 * they are stopped instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SandboxConfig } from '../config/types';
import { CancelledError, InfraSandboxError, ProcessError, type CommandSpec, type RunOptions } from '../exec';
import { ExitCode } from '../exitCodes';
import { guardTargets } from '../guard/guard';
import type { Logger } from '../log';
import {
  assertSandboxName,
  configPlace,
  GuardRefusal,
  lastLines,
  productionChains,
  removeFile,
  runFor,
  sandboxEntry,
  streamLines,
  chooseNodes,
  templateError,
  throwIfCancelled,
  writeFileAtomic,
} from './providerSupport';
import {
  MULTIPASS_SANDBOX_NAME_MAX,
  multipassDelete,
  multipassExec,
  multipassInfo,
  multipassJournal,
  multipassLaunch,
  multipassList,
  multipassMemberState,
  multipassNodeIndex,
  multipassNodeName,
  multipassStart,
  multipassStop,
  type MultipassInstance,
} from './multipassCli';
import { groupProblem, renderInventory, type InventoryNode } from './multipassInventory';
import { loadMultipassTemplate, renderArgv, renderCloudInit, type MultipassTemplate } from './multipassTemplate';
import { resolveTemplate } from './templates';
import type { SandboxContext, SandboxMember, SandboxProvider, SandboxStatus, UpResult } from './types';

/** `.infra-sandbox/inventory/<name>.ini` in the workspace. */
export function multipassInventoryPath(root: string, sandbox: string): string {
  return join(root, '.infra-sandbox', 'inventory', `${sandbox}.ini`);
}

export interface MultipassProviderOptions {
  /** Where the runner logs command lines (debug) and failing stderr (error). */
  logger?: Logger;
}

const SSH_PUBLIC_KEY =
  /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^"'\\\r\n]*)?$/;

export class MultipassProvider implements SandboxProvider {
  readonly kind = 'multipass' as const;

  constructor(private readonly options: MultipassProviderOptions = {}) {}

  async up(ctx: SandboxContext): Promise<UpResult> {
    const started = performance.now();
    const { entry, template } = await this.prepare(ctx);
    ctx.progress?.('looking for the sandbox nodes', 0);
    const ours = await this.instances(ctx);
    const present = ours.filter((i) => multipassMemberState(i.state) !== 'missing');

    let token: string | undefined;
    if (present.length === 0) {
      const deleted = ours.map((i) => i.name);
      if (deleted.length > 0) await this.mp(ctx, multipassDelete(deleted));
      token = randomBytes(24).toString('hex');
      await this.launchAll(ctx, template, token);
    } else {
      this.assertComplete(ctx, template, present);
      const stopped = present.filter((i) => multipassMemberState(i.state) !== 'running').map((i) => i.name);
      if (stopped.length > 0) {
        ctx.progress?.(`starting ${stopped.join(', ')}`, 0.1);
        await this.mp(ctx, multipassStart(stopped));
      }
    }

    const created = token !== undefined;
    try {
      const addresses = await this.publish(ctx, entry, template, created);
      if (token !== undefined) await this.afterLaunch(ctx, template, addresses, token);
    } catch (err) {
      if (created && !(err instanceof GuardRefusal)) return this.abandon(ctx, err);
      throw err;
    }
    const status = await this.status(ctx);
    return { status, timeToReadyMs: Math.round(performance.now() - started) };
  }

  async start(ctx: SandboxContext): Promise<UpResult> {
    const started = performance.now();
    const { entry, template } = await this.prepare(ctx);
    const present = (await this.instances(ctx)).filter((i) => multipassMemberState(i.state) !== 'missing');
    if (present.length === 0) {
      throw new InfraSandboxError(
        `sandbox "${ctx.name}" does not exist (no multipass instance isb-${ctx.name}-N); create it with \`infra-sandbox sandbox up ${ctx.name}\``,
        ExitCode.usage,
      );
    }
    this.assertComplete(ctx, template, present);
    const stopped = present.filter((i) => multipassMemberState(i.state) !== 'running').map((i) => i.name);
    if (stopped.length > 0) {
      ctx.progress?.(`starting ${stopped.join(', ')}`, 0.1);
      await this.mp(ctx, multipassStart(stopped));
    }
    await this.publish(ctx, entry, template, false);
    const status = await this.status(ctx);
    return { status, timeToReadyMs: Math.round(performance.now() - started) };
  }

  async stop(ctx: SandboxContext): Promise<SandboxStatus> {
    this.checkName(ctx);
    sandboxEntry(ctx, 'multipass');
    const running = (await this.instances(ctx))
      .filter((i) => ['running', 'starting'].includes(multipassMemberState(i.state)))
      .map((i) => i.name);
    if (running.length > 0) {
      ctx.progress?.(`stopping ${running.join(', ')}`);
      await this.mp(ctx, multipassStop(running));
    }
    return this.status(ctx);
  }

  async destroy(ctx: SandboxContext): Promise<void> {
    this.checkName(ctx);
    sandboxEntry(ctx, 'multipass');
    const names = (await this.instances(ctx)).map((i) => i.name);
    if (names.length > 0) {
      ctx.progress?.(`deleting ${names.join(', ')}`);
      await this.mp(ctx, multipassDelete(names));
    }
    removeFile(multipassInventoryPath(ctx.root, ctx.name));
  }

  async status(ctx: SandboxContext): Promise<SandboxStatus> {
    this.checkName(ctx);
    const instances = await this.instances(ctx);
    // The template gives the expected node count and roles; a broken or missing template must not
    // make the real state unreadable.
    let template: MultipassTemplate | undefined;
    const entry = ctx.config.sandboxes?.[ctx.name];
    if (entry?.provider === 'multipass') {
      template = await loadMultipassTemplate(resolveTemplate(entry.template, ctx.root, ctx.env)).catch(() => undefined);
    }
    const inventory = multipassInventoryPath(ctx.root, ctx.name);
    const base = { name: ctx.name, provider: 'multipass' as const };
    const present = instances.filter((i) => multipassMemberState(i.state) !== 'missing');
    if (present.length === 0) {
      return {
        ...base,
        state: 'absent',
        members: [],
        artifacts: {},
        detail:
          instances.length > 0
            ? `deleted but not purged: ${instances.map((i) => i.name).join(', ')}`
            : 'no multipass instance',
      };
    }
    const byIndex = new Map(instances.map((i) => [multipassNodeIndex(ctx.name, i.name) as number, i]));
    const count = Math.max(template?.nodes.length ?? 0, ...byIndex.keys());
    const members: SandboxMember[] = [];
    for (let index = 1; index <= count; index++) {
      const instance = byIndex.get(index);
      const name = multipassNodeName(ctx.name, index);
      members.push({
        name,
        role: template?.nodes[index - 1]?.role,
        state: instance ? multipassMemberState(instance.state) : 'missing',
        image: instance?.release,
        addresses: instance?.ipv4 ?? [],
        ports: [],
        id: name,
      });
    }
    const running = members.filter((m) => m.state === 'running').length;
    const stopped = members.filter((m) => m.state === 'stopped').length;
    const state = running === members.length ? 'running' : stopped === members.length ? 'stopped' : 'degraded';
    return {
      ...base,
      state,
      members,
      artifacts: existsSync(inventory) ? { inventory } : {},
      detail: `${running}/${members.length} nodes running`,
    };
  }

  async *logs(ctx: SandboxContext, opts: { member?: string; follow?: boolean; tail?: number }): AsyncIterable<string> {
    const status = await this.status(ctx);
    const nodes = status.members.filter((m) => m.state !== 'missing');
    if (nodes.length === 0) {
      throw new InfraSandboxError(`sandbox "${ctx.name}" does not exist: there are no logs`, ExitCode.usage);
    }
    const chosen = chooseNodes(ctx, nodes, opts.member);
    yield* streamLines(
      ctx,
      chosen.map((m) => ({ label: m.name, spec: multipassJournal(m.name, { follow: opts.follow, tail: opts.tail }) })),
    );
  }

  async shellCommand(ctx: SandboxContext, member?: string): Promise<string[]> {
    this.checkName(ctx);
    const node = member ?? multipassNodeName(ctx.name, 1);
    if (multipassNodeIndex(ctx.name, node) === undefined) {
      throw new InfraSandboxError(`${JSON.stringify(node)} is not a node of sandbox "${ctx.name}"`, ExitCode.usage);
    }
    return ['multipass', 'shell', node];
  }

  // -------------------------------------------------------------------------------------------

  private checkName(ctx: SandboxContext): void {
    assertSandboxName(ctx.name, MULTIPASS_SANDBOX_NAME_MAX, 'its nodes are isb-<name>-<n>, a 63-character host name');
  }

  /** Name, entry, template and group mapping: everything that can be wrong before anything runs. */
  private async prepare(ctx: SandboxContext): Promise<{ entry: SandboxConfig; template: MultipassTemplate }> {
    this.checkName(ctx);
    const entry = sandboxEntry(ctx, 'multipass');
    const template = await loadMultipassTemplate(resolveTemplate(entry.template, ctx.root, ctx.env));
    for (const [group, nodes] of Object.entries(entry.groups ?? {})) {
      const problem = groupProblem(group, nodes, template.nodes.length);
      if (problem) {
        const place = await configPlace(ctx.configFile, ['sandboxes', ctx.name, 'groups', group]);
        throw templateError(place, `sandboxes.${ctx.name}.groups.${group}: ${problem}`);
      }
    }
    return { entry, template };
  }

  private mp<T>(
    ctx: SandboxContext,
    spec: CommandSpec<T>,
    extra: Partial<RunOptions> & { quiet?: boolean } = {},
  ): Promise<T> {
    return runFor(ctx, spec, { logger: this.options.logger, ...extra });
  }

  /** This sandbox's instances (`isb-<name>-<n>`), deleted ones included. */
  private async instances(ctx: SandboxContext): Promise<MultipassInstance[]> {
    const all = await this.mp(ctx, multipassList(), { quiet: true });
    return all.filter((i) => multipassNodeIndex(ctx.name, i.name) !== undefined);
  }

  /** Some nodes exist and others do not: `up` would have to guess; say what to do. */
  private assertComplete(ctx: SandboxContext, template: MultipassTemplate, present: MultipassInstance[]): void {
    const names = new Set(present.map((i) => i.name));
    const missing = template.nodes.map((n) => multipassNodeName(ctx.name, n.index)).filter((n) => !names.has(n));
    if (missing.length > 0) {
      throw new InfraSandboxError(
        `sandbox "${ctx.name}" is incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist. Recreate it: \`infra-sandbox sandbox destroy ${ctx.name}\`, then \`up\`.`,
        ExitCode.usage,
      );
    }
  }

  /** Every node at once, each with its own cloud-init on stdin; on any failure, nothing stays. */
  private async launchAll(ctx: SandboxContext, template: MultipassTemplate, token: string): Promise<void> {
    const key = await readSshPublicKey(ctx, template);
    // Render everything first: a template problem must stop before the first VM exists.
    const launches = template.nodes.map((node) => {
      const name = multipassNodeName(ctx.name, node.index);
      const cloudInit = renderCloudInit(node, {
        ...template.vars,
        SANDBOX: ctx.name,
        NODE_INDEX: String(node.index),
        NODE_NAME: name,
        USER: template.user,
        SSH_PUBLIC_KEY: key,
        CLUSTER_TOKEN: token,
      });
      const spec = multipassLaunch({
        image: template.image,
        name,
        cpus: node.cpus,
        memory: node.memory,
        disk: node.disk,
        timeout: template.launchTimeout,
      });
      return { name, spec, cloudInit };
    });
    throwIfCancelled(ctx, `sandbox up ${ctx.name}`);
    ctx.progress?.(`launching ${launches.map((l) => l.name).join(', ')} in parallel`, 0.05);
    const results = await Promise.allSettled(
      launches.map((l) =>
        this.mp(ctx, l.spec, {
          input: l.cloudInit,
          onStdoutLine: (line) => ctx.log?.(`[${l.name}] ${line}`, 'stdout'),
          onStderrLine: (line) => ctx.log?.(`[${l.name}] ${line}`, 'stderr'),
        }),
      ),
    );
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ name: launches[i].name, err: r.reason as unknown }] : [],
    );
    if (failures.length === 0) return;

    const fate = await this.cleanup(ctx);
    if (ctx.signal?.aborted || failures.some((f) => f.err instanceof CancelledError)) {
      throw new CancelledError(`sandbox up ${ctx.name} (${fate.replace(/\.$/, '')})`);
    }
    const known = failures.find((f) => f.err instanceof InfraSandboxError)?.err as InfraSandboxError | undefined;
    throw new InfraSandboxError(
      [
        `multipass could not launch sandbox "${ctx.name}": ${failures.length} of ${launches.length} node${launches.length === 1 ? '' : 's'} failed.`,
        ...failures.map((f) => `  ${f.name}: ${describeFailure('multipass launch', f.err)}`),
        fate,
      ].join('\n'),
      known?.exitCode ?? ExitCode.usage,
    );
  }

  /**
   * Addresses from `multipass info`, the guard over every one, then the inventory. Returns node
   * number → address. A production address refuses (exit 3): nodes this call created are deleted,
   * others stopped; the inventory is removed.
   */
  private async publish(
    ctx: SandboxContext,
    entry: SandboxConfig,
    template: MultipassTemplate,
    created: boolean,
  ): Promise<Map<number, string>> {
    throwIfCancelled(ctx, `sandbox up ${ctx.name}`);
    ctx.progress?.('reading the node addresses', 0.8);
    const names = template.nodes.map((n) => multipassNodeName(ctx.name, n.index));
    const info = await this.mp(ctx, multipassInfo(names), { quiet: true });
    const nodes: InventoryNode[] = template.nodes.map((n) => {
      const name = multipassNodeName(ctx.name, n.index);
      const address = info[name]?.ipv4[0];
      if (!address) {
        throw new InfraSandboxError(
          `node ${name} has no IPv4 address (state: ${info[name]?.state ?? 'not listed'}); the guard cannot check it, so no inventory was written`,
          ExitCode.usage,
        );
      }
      return { index: n.index, name, address };
    });

    ctx.progress?.('checking the node addresses against production', 0.85);
    const { verdict } = await guardTargets(
      { hosts: nodes.map((n) => n.address) },
      { cwd: ctx.root, env: ctx.env, config: ctx.config },
    );
    const inventory = multipassInventoryPath(ctx.root, ctx.name);
    if (verdict.verdict === 'block') {
      let fate: string;
      if (created) {
        fate = await this.cleanup(ctx);
      } else {
        await this.mp({ ...ctx, signal: undefined }, multipassStop(names)).catch(() => undefined);
        removeFile(inventory);
        fate = 'These nodes existed before: they were stopped, not deleted, and the inventory was removed.';
      }
      const nodeOf = (address: string) =>
        nodes
          .filter((n) => n.address === address)
          .map((n) => n.name)
          .join(', ');
      throw new GuardRefusal(
        `sandbox "${ctx.name}" refused: node addresses are production.\n${productionChains(verdict, (a) => `${nodeOf(a)} ansible_host=${a}`)}\n${fate}`,
        verdict,
      );
    }

    writeFileAtomic(
      inventory,
      renderInventory({
        sandbox: ctx.name,
        template: entry.template,
        user: template.user,
        nodes,
        groups: entry.groups ?? {},
      }),
      0o644,
    );
    return new Map(nodes.map((n) => [n.index, n.address]));
  }

  /** The template's afterLaunch steps, in order; the nodes of one step in parallel. */
  private async afterLaunch(
    ctx: SandboxContext,
    template: MultipassTemplate,
    addresses: Map<number, string>,
    token: string,
  ): Promise<void> {
    const values: Record<string, string> = {
      ...template.vars,
      SANDBOX: ctx.name,
      USER: template.user,
      CLUSTER_TOKEN: token,
    };
    for (const [index, address] of addresses) {
      values[`NODE_${index}_IP`] = address;
      values[`NODE_${index}_NAME`] = multipassNodeName(ctx.name, index);
    }
    for (const [i, step] of template.afterLaunch.entries()) {
      throwIfCancelled(ctx, `sandbox up ${ctx.name}`);
      ctx.progress?.(
        `after launch: ${step.run.join(' ')} on node ${step.nodes.join(', ')}`,
        0.9 + (0.1 * i) / template.afterLaunch.length,
      );
      const names = step.nodes.map((n) => multipassNodeName(ctx.name, n));
      const results = await Promise.allSettled(
        names.map((name) =>
          this.mp(
            ctx,
            multipassExec(
              name,
              renderArgv(step.run, {
                ...values,
                NODE_INDEX: String(multipassNodeIndex(ctx.name, name)),
                NODE_NAME: name,
              }),
            ),
            {
              onStdoutLine: (line) => ctx.log?.(`[${name}] ${line}`, 'stdout'),
              onStderrLine: (line) => ctx.log?.(`[${name}] ${line}`, 'stderr'),
            },
          ),
        ),
      );
      const failures = results.flatMap((r, k) =>
        r.status === 'rejected' ? [{ name: names[k], err: r.reason as unknown }] : [],
      );
      if (failures.length === 0) continue;
      const cancelled = failures.find((f) => f.err instanceof CancelledError);
      if (cancelled) throw cancelled.err;
      throw new InfraSandboxError(
        [
          `the template's afterLaunch step (${step.place}) failed:`,
          ...failures.map((f) => `  ${f.name}: ${describeFailure('multipass exec', f.err)}`),
        ].join('\n'),
        ExitCode.usage,
      );
    }
  }

  /** After a failure of an `up` that created nodes: delete them, remove the inventory, say so. */
  private async abandon(ctx: SandboxContext, err: unknown): Promise<never> {
    const fate = await this.cleanup(ctx);
    if (err instanceof CancelledError) throw new CancelledError(`sandbox up ${ctx.name} (${fate.replace(/\.$/, '')})`);
    if (err instanceof InfraSandboxError) throw new InfraSandboxError(`${err.message}\n${fate}`, err.exitCode);
    throw err;
  }

  /**
   * Deletes and purges every node of the sandbox that exists now (a launch that timed out still
   * leaves its VM behind), even after a cancellation, and removes the inventory.
   */
  private async cleanup(ctx: SandboxContext): Promise<string> {
    const quiet = { ...ctx, signal: undefined };
    removeFile(multipassInventoryPath(ctx.root, ctx.name));
    let names: string[] = [];
    try {
      names = (await this.instances(quiet)).map((i) => i.name);
      if (names.length === 0) return 'Nothing was left behind: no node had been created and no inventory was written.';
      ctx.progress?.(`removing ${names.join(', ')}`);
      await this.mp(quiet, multipassDelete(names));
      return `Nothing was left behind: the nodes were deleted (multipass delete --purge ${names.join(' ')}) and no inventory was written.`;
    } catch (err) {
      const why = err instanceof ProcessError ? (lastLines(err.stderr, 1)[0] ?? err.message) : (err as Error).message;
      const which = names.length > 0 ? names.join(' ') : `isb-${ctx.name}-1 …`;
      return `Deleting the nodes failed too (${why}); remove them with \`multipass delete --purge ${which}\`.`;
    }
  }
}

function describeFailure(what: string, err: unknown): string {
  if (err instanceof ProcessError) {
    const how = err.signal ? `was killed by ${err.signal}` : `exited with code ${err.processExitCode}`;
    const said = lastLines(err.stderr, 5);
    return `${what} ${how}${said.length ? `:\n${said.map((l) => `    ${l}`).join('\n')}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The template's `sshPublicKey` (`~/…`, absolute, or relative to the workspace): one OpenSSH line,
 * whose comment may not hold quotes or backslashes (it goes into a quoted YAML string).
 */
async function readSshPublicKey(ctx: SandboxContext, template: MultipassTemplate): Promise<string> {
  const home = ctx.env.HOME || homedir();
  const spec = template.sshPublicKey;
  const file = spec.startsWith('~/') ? join(home, spec.slice(2)) : isAbsolute(spec) ? spec : resolve(ctx.root, spec);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InfraSandboxError(
      `no SSH public key at ${file} (sshPublicKey, ${template.sshPublicKeyPlace}): the nodes are reached with it (Ansible, ssh). Create one with \`ssh-keygen -t ed25519\`, or point sshPublicKey at another .pub file.`,
      ExitCode.usage,
    );
  }
  const key = text.trim().split('\n')[0].trim();
  if (!SSH_PUBLIC_KEY.test(key)) {
    throw new InfraSandboxError(
      `${file} is not an OpenSSH public key (expected "ssh-ed25519 AAAA… comment")`,
      ExitCode.usage,
    );
  }
  return key;
}
