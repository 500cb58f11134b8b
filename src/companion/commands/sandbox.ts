import { type Command } from 'commander';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadConfig, formatProblem, type WorkspaceConfig } from '../../core/config';
import { InfraSandboxError } from '../../core/exec';
import { ExitCode } from '../../core/exitCodes';
import { readLedger } from '../../core/ledger';
import type { LifecycleVerb, SandboxService } from '../../core/sandbox/service';
import type { SandboxContext, SandboxStatus } from '../../core/sandbox/types';
import type { OperationInfo, OperationLogLine } from '../../protocol/companion';
import { printJson, resolveConfigPath, type GlobalOptions } from '../context';
import { loadProviders } from '../../core/sandbox/loadProviders';
import { LIFECYCLE } from '../sandboxOps';

const DESCRIPTIONS: Record<LifecycleVerb, string> = {
  up: 'create (or start) the sandbox and wait until it is healthy; prints time-to-ready',
  start: 'start a stopped sandbox and wait until it is healthy',
  stop: 'stop the sandbox, keeping its data (volumes, cluster, VMs)',
  destroy: 'remove the sandbox and its data (asks first; --yes to skip)',
};

/** SPEC §4 `sandbox …`: through a running companion when there is one (so the editor shows it), else in this process. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('Sandbox lifecycle: compose stacks, k3d clusters, multipass VMs.');
  for (const verb of LIFECYCLE) {
    const cmd = sandbox
      .command(verb)
      .argument('<name>', 'sandbox name from infra-sandbox.yaml')
      .description(DESCRIPTIONS[verb]);
    if (verb === 'destroy') cmd.option('-y, --yes', 'do not ask before removing the data');
    cmd.action(async (name: string, opts: { yes?: boolean }, c: Command) => {
      process.exitCode = await lifecycle(verb, name, opts, c.optsWithGlobals<GlobalOptions>());
    });
  }
  sandbox
    .command('list')
    .description('every sandbox of the config, from the providers’ real state')
    .action(async (_opts: object, c: Command) => {
      process.exitCode = await list(c.optsWithGlobals<GlobalOptions>());
    });
  sandbox
    .command('status')
    .argument('<name>')
    .description('one sandbox: its members, health, addresses, ports, artifacts and last time-to-ready')
    .action(async (name: string, _opts: object, c: Command) => {
      process.exitCode = await status(name, c.optsWithGlobals<GlobalOptions>());
    });
  sandbox
    .command('logs')
    .argument('<name>')
    .option('--follow', 'keep streaming')
    .option('--member <name>', 'only this service / node')
    .option('--tail <n>', 'last N lines of each', '100')
    .description('container / VM logs')
    .action(async (name: string, opts: { follow?: boolean; member?: string; tail: string }, c: Command) => {
      process.exitCode = await logs(name, opts, c.optsWithGlobals<GlobalOptions>());
    });
}

async function workspace(g: GlobalOptions): Promise<{ configFile: string; config: WorkspaceConfig }> {
  const configFile = resolveConfigPath(g);
  const loaded = await loadConfig(configFile);
  if (!loaded.ok) {
    throw new InfraSandboxError(
      `${configFile} has problems; nothing was done.\n${loaded.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      ExitCode.usage,
    );
  }
  return { configFile, config: loaded.config };
}

/** The providers (dockerode and the tool clients) load only when a sandbox command runs. */
async function sandboxService(): Promise<SandboxService> {
  const { createProviders, SandboxService: Service } = loadProviders();
  return new Service({ providers: createProviders() });
}

function baseContext(configFile: string, config: WorkspaceConfig, name: string): SandboxContext {
  return { root: dirname(configFile), configFile, config, name, env: process.env };
}

async function lifecycle(
  verb: LifecycleVerb,
  name: string,
  opts: { yes?: boolean },
  g: GlobalOptions,
): Promise<number> {
  const { configFile, config } = await workspace(g);
  const service = await sandboxService();
  service.provider(config, name); // an unknown sandbox or a bad name fails here, before anything else
  if (verb === 'destroy' && !opts.yes) await confirmDestroy(name);

  // A running companion runs it, so every window shows it; else this process does, the same way.
  const { connectCompanion } = await import('../client');
  const connection = await connectCompanion({ timeoutMs: 500 });
  if (connection) {
    try {
      return await follow(g, async (onChange, onLog) => {
        const { StartOperation, CancelOperation, OperationChanged, OperationLog } =
          await import('../../protocol/companion');
        connection.onNotification(OperationChanged, onChange);
        connection.onNotification(OperationLog, onLog);
        const op = await connection.sendRequest(StartOperation, {
          kind: `sandbox.${verb}`,
          key: name,
          configFile,
          origin: 'cli',
        });
        return { op, cancel: () => void connection.sendRequest(CancelOperation, { id: op.id }).catch(() => {}) };
      });
    } finally {
      await connection.close();
    }
  }
  const [{ OperationManager }, { registerSandboxOperations }] = await Promise.all([
    import('../../core/ops/operations'),
    import('../sandboxOps'),
  ]);
  const manager = new OperationManager({ journalFile: join(tmpdir(), `infra-sandbox-cli-${process.pid}.jsonl`) });
  registerSandboxOperations(manager, service, async () => config);
  return follow(g, async (onChange, onLog) => {
    manager.onChanged(onChange);
    manager.onLog(onLog);
    const op = manager.start({ kind: `sandbox.${verb}`, key: name, configFile, origin: 'cli' });
    return { op, cancel: () => manager.cancel(op.id), settled: () => manager.flush() };
  });
}

type Starter = (
  onChange: (op: OperationInfo) => void,
  onLog: (line: OperationLogLine) => void,
) => Promise<{ op: OperationInfo; cancel(): void; settled?(): Promise<void> }>;

/** Shows an operation's progress on stderr until it ends; Ctrl-C cancels it. Returns the exit code. */
async function follow(g: GlobalOptions, start: Starter): Promise<number> {
  const current: { id?: string } = {};
  const early: OperationInfo[] = [];
  let finish: (op: OperationInfo) => void = () => {};
  const ended = new Promise<OperationInfo>((r) => (finish = r));
  let lastMessage = '';
  let lastLine = '';
  const onChange = (op: OperationInfo) => {
    if (current.id === undefined) return void early.push(op);
    if (op.id !== current.id) return;
    if (op.message && op.message !== lastMessage && op.state === 'running') {
      lastMessage = op.message;
      // Providers often log what they report as progress: say it once.
      if (op.message !== lastLine) process.stderr.write(`  ${op.message}\n`);
    }
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(op.state)) finish(op);
  };
  const onLog = (line: OperationLogLine) => {
    if (line.id !== current.id) return;
    lastLine = line.line;
    process.stderr.write(`  | ${line.line}\n`);
  };
  const started = await start(onChange, onLog);
  current.id = started.op.id;
  process.stderr.write(`infra-sandbox: ${started.op.kind} ${started.op.key} (${started.op.id})\n`);
  for (const op of early.splice(0)) onChange(op);
  if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(started.op.state)) finish(started.op);
  const onSigint = () => {
    process.stderr.write('infra-sandbox: cancelling…\n');
    started.cancel();
  };
  process.on('SIGINT', onSigint);
  const op = await ended.finally(() => process.off('SIGINT', onSigint));
  await started.settled?.();
  if (g.json) printJson(op);
  return report(op);
}

function report(op: OperationInfo): number {
  const result = op.result as { timeToReadyMs?: number; status?: SandboxStatus } | undefined;
  switch (op.state) {
    case 'succeeded': {
      const ready = result?.timeToReadyMs !== undefined ? ` — time to ready ${seconds(result.timeToReadyMs)}` : '';
      const members = result?.status?.members.length;
      const what = op.kind.replace('sandbox.', '');
      process.stdout.write(
        `${op.key}: ${what === 'up' || what === 'start' ? 'up' : what === 'stop' ? 'stopped' : 'destroyed'}${members ? ` (${members} ${members === 1 ? 'member' : 'members'})` : ''}${ready}\n`,
      );
      return ExitCode.ok;
    }
    case 'cancelled':
      process.stderr.write(`infra-sandbox: ${op.kind} ${op.key} was cancelled\n`);
      return ExitCode.cancelled;
    default:
      process.stderr.write(`infra-sandbox: ${op.kind} ${op.key} ${op.state}: ${op.error ?? 'no reason given'}\n`);
      return op.exitCode ?? 1;
  }
}

async function confirmDestroy(name: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new InfraSandboxError(
      `destroy removes ${name} and its data; add --yes to confirm when there is no terminal to ask in`,
      ExitCode.usage,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Destroy sandbox ${name} and its data (volumes, cluster, VMs)? [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new InfraSandboxError('nothing was destroyed', ExitCode.cancelled);
}

async function list(g: GlobalOptions): Promise<number> {
  const { configFile, config } = await workspace(g);
  const service = await sandboxService();
  const { name: _drop, ...base } = baseContext(configFile, config, '');
  void _drop;
  const all = await service.list(base);
  if (g.json) printJson(all);
  else if (all.length === 0) process.stdout.write('no sandboxes are declared in infra-sandbox.yaml\n');
  else {
    const rows = all.map((s) => [
      s.name,
      s.provider,
      s.state,
      s.members.length ? `${s.members.length} members` : '',
      s.detail ?? '',
    ]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows)
      process.stdout.write(
        `${r
          .map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c))
          .join('  ')
          .trimEnd()}\n`,
      );
  }
  return ExitCode.ok;
}

async function status(name: string, g: GlobalOptions): Promise<number> {
  const { configFile, config } = await workspace(g);
  const service = await sandboxService();
  const s = await service.status(baseContext(configFile, config, name));
  const ready = await lastTimeToReady(configFile, name);
  if (g.json) {
    printJson({ ...s, timeToReadyMs: ready?.ms ?? null });
    return ExitCode.ok;
  }
  const lines = [`${s.name} (${s.provider}): ${s.state}${s.detail ? ` — ${s.detail}` : ''}`];
  if (ready) lines.push(`time to ready: ${seconds(ready.ms)} (${ready.at})`);
  for (const m of s.members) {
    const health = m.health ? ` ${m.health}` : '';
    const where = [...m.addresses, ...m.ports].join(' ');
    lines.push(`  ${m.name}  ${m.state}${health}${m.image ? `  ${m.image}` : ''}${where ? `  ${where}` : ''}`);
  }
  if (s.artifacts.kubeconfig) lines.push(`kubeconfig: ${s.artifacts.kubeconfig}`);
  if (s.artifacts.inventory) lines.push(`inventory: ${s.artifacts.inventory}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

/** The last time-to-ready the ledger has for this sandbox (its last successful up/start). */
async function lastTimeToReady(configFile: string, name: string): Promise<{ ms: number; at: string } | undefined> {
  const { entries } = await readLedger(configFile, { limit: 1000 });
  for (const e of [...entries].reverse()) {
    const ms = e.durations?.timeToReadyMs;
    if (e.key === name && e.result === 'succeeded' && typeof ms === 'number') return { ms, at: e.at };
  }
  return undefined;
}

async function logs(
  name: string,
  opts: { follow?: boolean; member?: string; tail: string },
  g: GlobalOptions,
): Promise<number> {
  const { configFile, config } = await workspace(g);
  const service = await sandboxService();
  const ctx = baseContext(configFile, config, name);
  const tail = Number(opts.tail);
  if (!Number.isInteger(tail) || tail < 0) throw new InfraSandboxError(`--tail must be a whole number`, ExitCode.usage);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  for await (const line of service
    .provider(config, name)
    .logs({ ...ctx, signal: controller.signal }, { member: opts.member, follow: opts.follow === true, tail })) {
    process.stdout.write(`${line}\n`);
  }
  return ExitCode.ok;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
