/**
 * The sandbox lifecycle above the providers (SPEC §4 `sandbox`, §7 limits): which sandbox of the
 * config, which provider, whether the limits allow another one, and what the ledger records. The
 * CLI (in-process) and the companion (as operations) both come through here.
 */
import { freemem } from 'node:os';
import type { WorkspaceConfig } from '../config/types';
import { InfraSandboxError } from '../exec';
import { ExitCode } from '../exitCodes';
import type { ProviderKind, SandboxContext, SandboxProvider, SandboxStatus, UpResult } from './types';

/** A sandbox name: a DNS label (it becomes host names, a compose project, a k3d cluster). */
export const SANDBOX_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Below this much free memory no sandbox is created (the machine would swap, or the OOM killer would pick). */
export const MIN_FREE_BYTES = 1024 * 1024 * 1024;

export type Providers = Partial<Record<ProviderKind, SandboxProvider>>;

export interface ServiceOptions {
  providers: Providers;
  /** Bytes of free memory (tests). */
  freeMemory?: () => number;
}

export type LifecycleVerb = 'up' | 'stop' | 'start' | 'destroy';

/** What a lifecycle operation returns; `ledger` is merged into the operation's ledger entry. */
export interface LifecycleResult {
  status?: SandboxStatus;
  timeToReadyMs?: number;
  ledger: { provider: ProviderKind; durations: Record<string, number> };
}

export class SandboxService {
  private readonly freeMemory: () => number;

  constructor(private readonly opts: ServiceOptions) {
    this.freeMemory = opts.freeMemory ?? freemem;
  }

  /** The provider for a sandbox of the config; an unknown sandbox or provider is bad input (exit 2). */
  provider(config: WorkspaceConfig, name: string): SandboxProvider {
    checkName(name);
    const entry = config.sandboxes?.[name];
    if (!entry) {
      const known = Object.keys(config.sandboxes ?? {});
      throw new InfraSandboxError(
        `no sandbox named ${JSON.stringify(name)} in infra-sandbox.yaml; ${known.length ? `defined: ${known.join(', ')}` : 'none is defined (add one under `sandboxes:`)'}`,
        ExitCode.usage,
      );
    }
    const provider = this.opts.providers[entry.provider];
    if (!provider) {
      throw new InfraSandboxError(
        `sandbox ${name}: provider ${JSON.stringify(entry.provider)} is not available (known: ${Object.keys(this.opts.providers).join(', ')})`,
        ExitCode.usage,
      );
    }
    return provider;
  }

  async run(verb: LifecycleVerb, ctx: SandboxContext): Promise<LifecycleResult> {
    const provider = this.provider(ctx.config, ctx.name);
    const started = Date.now();
    const took = () => Date.now() - started;
    switch (verb) {
      case 'up': {
        await this.checkLimits(ctx, provider);
        const up: UpResult = await provider.up(ctx);
        // Time-to-ready first: it is the number people compare.
        return {
          status: up.status,
          timeToReadyMs: up.timeToReadyMs,
          ledger: { provider: provider.kind, durations: { timeToReadyMs: up.timeToReadyMs, totalMs: took() } },
        };
      }
      case 'start': {
        const up = await provider.start(ctx);
        return {
          status: up.status,
          timeToReadyMs: up.timeToReadyMs,
          ledger: { provider: provider.kind, durations: { timeToReadyMs: up.timeToReadyMs, totalMs: took() } },
        };
      }
      case 'stop': {
        const status = await provider.stop(ctx);
        return { status, ledger: { provider: provider.kind, durations: { totalMs: took() } } };
      }
      case 'destroy':
        await provider.destroy(ctx);
        return { ledger: { provider: provider.kind, durations: { totalMs: took() } } };
    }
  }

  async status(ctx: SandboxContext): Promise<SandboxStatus> {
    return this.provider(ctx.config, ctx.name).status(ctx);
  }

  /** Every sandbox of the config, each from its provider's real state; a provider's failure is shown, not thrown. */
  async list(base: Omit<SandboxContext, 'name'>): Promise<SandboxStatus[]> {
    const names = Object.keys(base.config.sandboxes ?? {});
    return Promise.all(
      names.map(async (name): Promise<SandboxStatus> => {
        const kind = base.config.sandboxes?.[name]?.provider as ProviderKind;
        try {
          return await this.status({ ...base, name });
        } catch (err) {
          return {
            name,
            provider: kind,
            state: 'unknown',
            members: [],
            artifacts: {},
            detail: err instanceof Error ? err.message : String(err),
          };
        }
      }),
    );
  }

  /** SPEC §7: `limits.maxSandboxes` (existing ones counted from the providers) and free memory. */
  private async checkLimits(ctx: SandboxContext, provider: SandboxProvider): Promise<void> {
    const current = await provider.status(ctx).catch(() => undefined);
    if (current && current.state !== 'absent') return; // it exists: `up` starts it, no new sandbox
    const max = ctx.config.limits?.maxSandboxes;
    if (max !== undefined) {
      const others = (await this.list(ctx)).filter(
        (s) => s.name !== ctx.name && s.state !== 'absent' && s.state !== 'unknown',
      );
      if (others.length >= max) {
        throw new InfraSandboxError(
          `sandbox ${ctx.name} was not created: limits.maxSandboxes is ${max} and ${others.length} exist (${others.map((s) => `${s.name}: ${s.state}`).join(', ')}). Destroy one (infra-sandbox sandbox destroy NAME) or raise the limit in infra-sandbox.yaml.`,
          ExitCode.usage,
        );
      }
    }
    const free = this.freeMemory();
    if (free < MIN_FREE_BYTES) {
      throw new InfraSandboxError(
        `sandbox ${ctx.name} was not created: only ${Math.round(free / 1024 / 1024)} MiB of memory are free and a sandbox needs at least ${MIN_FREE_BYTES / 1024 / 1024} MiB. Stop another sandbox or close something.`,
        ExitCode.usage,
      );
    }
  }
}

export function checkName(name: string): void {
  if (!SANDBOX_NAME.test(name)) {
    throw new InfraSandboxError(
      `${JSON.stringify(name)} is not a valid sandbox name: use a DNS label (lower-case letters, digits and '-', at most 63, not starting or ending with '-')`,
      ExitCode.usage,
    );
  }
}
