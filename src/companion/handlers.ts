/**
 * What the companion answers: one entry per request of src/protocol/companion.ts, each with the
 * guard its params must pass (else -32602) and the code that runs it. Adapts core (operations,
 * guard, ledger) to the wire; errors become JSON-RPC errors with the codes of ErrorCodes.
 */
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ResponseError, type RequestType, type RequestType0 } from 'vscode-jsonrpc/node';
import { findConfigUpward } from '../core/config';
import { InfraSandboxError } from '../core/exec';
import { fileFindings } from '../core/guard/fileFindings';
import { guardCommand, guardTargets, sharedResolver } from '../core/guard/guard';
import { readLedger } from '../core/ledger/ledger';
import { OperationError, type OperationManager } from '../core/ops/operations';
import type { SandboxService } from '../core/sandbox/service';
import {
  CancelOperation,
  ErrorCodes,
  GuardCheck,
  GuardDecide,
  GuardEnvironment,
  GuardFileFindings,
  Hello,
  ListOperations,
  ListSandboxes,
  OperationKinds,
  KeepSandbox,
  QueryLedger,
  SandboxShell,
  Shutdown,
  StartOperation,
  type GuardCheckParams,
  type GuardCheckResult,
  type HelloResult,
} from '../protocol/companion';
import { type ConfigCache, decideCommand, NO_CONFIG_WARNING } from './guardDecision';
import {
  configFileParams,
  guardCheckParams,
  guardDecideParams,
  guardEnvironmentParams,
  guardFileParams,
  ledgerQueryParams,
  listOperationsParams,
  noParams,
  operationIdParams,
  sandboxShellParams,
  startOperationParams,
  type Check,
} from './rpc/params';
import { VERSION } from './version';

export interface HandlerContext {
  manager: OperationManager;
  configs: ConfigCache;
  sandboxes: SandboxService;
  /** A config the companion serves (its sandboxes' idle ttl is watched from now on). */
  seen(configFile: string): void;
  keep(configFile: string, name: string): void;
  hello(): HelloResult;
  /** Asks the companion to close once the current answer is sent. */
  shutdown(): void;
}

export interface Method {
  method: string;
  check: Check;
  run(params: unknown): Promise<unknown>;
}

/** The ledger query answers at most this many entries unless asked for fewer. */
const DEFAULT_LEDGER_LIMIT = 500;

export function companionMethods(ctx: HandlerContext): Map<string, Method> {
  const { manager } = ctx;
  const methods: Method[] = [
    def0(Hello, () => ctx.hello()),
    def0(Shutdown, () => ctx.shutdown()),
    def(StartOperation, startOperationParams, (p) => {
      if (!manager.kinds().includes(p.kind) && p.kind.startsWith('gate.')) {
        throw new ResponseError(
          ErrorCodes.NotAvailable,
          `${p.kind}: gates are not in this version (${VERSION}); the idempotence and plan-diff gates arrive with a later issue. Nothing was started.`,
        );
      }
      return manager.start(p);
    }),
    def(CancelOperation, operationIdParams, (p) => manager.cancel(p.id)),
    def(ListOperations, listOperationsParams, (p) => manager.list(p ?? {})),
    def0(OperationKinds, () => manager.kinds()),
    def(GuardCheck, guardCheckParams, (p) => guardCheck(p, ctx.configs)),
    def(GuardDecide, guardDecideParams, (p) => decideCommand(p, ctx.configs)),
    def(GuardFileFindings, guardFileParams, async (p) => {
      const config = await ctx.configs.load(p.configFile);
      const found = await fileFindings(p.file, p.text, {
        config,
        root: dirname(p.configFile),
        resolver: sharedResolver(config.guard?.dnsServers ?? []),
        env: process.env,
        home: homedir(),
        overrides: new Map(Object.entries(p.overrides ?? {})),
        lookups: p.lookups,
      });
      return found ?? null;
    }),
    def(GuardEnvironment, guardEnvironmentParams, async (p) => {
      const config = await ctx.configs.load(p.configFile);
      const { verdict } = await guardCommand(['kubectl'], {
        cwd: p.cwd,
        env: p.env,
        config,
        inventoryParser: 'builtin',
      });
      // An unreachable API server blocks commands (fail closed) but does not make the editor say PRODUCTION.
      return { production: verdict.targets.find((t) => t.production && !t.unresolved) ?? null, reason: verdict.reason };
    }),
    def(QueryLedger, ledgerQueryParams, async (p) => {
      const { entries } = await readLedger(p.configFile, { limit: p.limit ?? DEFAULT_LEDGER_LIMIT });
      return entries;
    }),
    def(ListSandboxes, configFileParams, async (p) => {
      const config = await ctx.configs.load(p.configFile);
      ctx.seen(p.configFile);
      return ctx.sandboxes.list({ root: dirname(p.configFile), configFile: p.configFile, config, env: process.env });
    }),
    def(KeepSandbox, sandboxShellParams, (p) => ctx.keep(p.configFile, p.name)),
    def(SandboxShell, sandboxShellParams, async (p) => {
      const config = await ctx.configs.load(p.configFile);
      const context = { root: dirname(p.configFile), configFile: p.configFile, config, name: p.name, env: process.env };
      return ctx.sandboxes.provider(config, p.name).shellCommand(context, p.member);
    }),
  ];
  return new Map(methods.map((m) => [m.method, m]));
}

function def<P, R>(type: RequestType<P, R, void>, check: Check, run: (params: P) => R | Promise<R>): Method {
  return { method: type.method, check, run: (params) => settle(() => run(params as P)) };
}

function def0<R>(type: RequestType0<R, void>, run: () => R | Promise<R>): Method {
  return { method: type.method, check: noParams, run: () => settle(run) };
}

/** Runs a handler and turns the core's errors into JSON-RPC errors with our codes. */
async function settle<R>(run: () => R | Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ResponseError) throw err;
    if (err instanceof OperationError) throw new ResponseError(err.code, err.message);
    if (err instanceof InfraSandboxError) throw new ResponseError(ErrorCodes.BadInput, err.message);
    throw err;
  }
}

async function guardCheck(p: GuardCheckParams, configs: ConfigCache): Promise<GuardCheckResult> {
  if (!p.inventories?.length && !p.kubeconfig && !p.context && !p.hosts?.length && !p.tfDir) {
    throw new ResponseError(
      ErrorCodes.BadInput,
      'guard/check needs at least one target: inventories, kubeconfig/context, hosts or tfDir.',
    );
  }
  const configFile = p.configFile ? resolve(p.cwd, p.configFile) : findConfigUpward(p.cwd);
  const config = configFile ? await configs.load(configFile) : undefined;
  const result = await guardTargets(
    {
      inventories: p.inventories,
      limit: p.limit,
      kubeconfig: p.kubeconfig,
      context: p.context,
      hosts: p.hosts,
      tfDir: p.tfDir,
    },
    { cwd: p.cwd, env: process.env, config, inventoryParser: p.inventoryParser ?? 'auto' },
  );
  if (!configFile) result.verdict.notes.unshift(NO_CONFIG_WARNING.replace(/^infra-sandbox: warning: /, '').trim());
  return { verdict: result.verdict, problems: result.problems };
}
