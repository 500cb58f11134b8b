import { type Command } from 'commander';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { InfraSandboxError } from '../../core/exec';
import { ExitCode } from '../../core/exitCodes';
import { guardCommand, guardTargets, type GuardOptions, type GuardResult } from '../../core/guard/guard';
import type { InventoryParserChoice } from '../../core/guard/types';
import { recordVerdict } from '../../core/guard/verdictLog';
import { decideViaCompanion } from '../decideClient';
import { type GlobalOptions } from '../context';
import {
  checkInventoryParser,
  describeOutcome,
  guardConfigFile,
  loadGuardConfig,
  NO_CONFIG_WARNING,
  notFoundMessage,
  realExecutable,
  recorded,
} from '../guardDecision';

/** `1`: never ask a running companion (tests, and to compare the two paths). */
export const NO_COMPANION_ENV = 'INFRA_SANDBOX_NO_COMPANION';

interface GuardGlobal extends GlobalOptions {
  inventoryParser?: InventoryParserChoice;
}

export function registerGuardCommands(program: Command): void {
  const guard = program
    .command('guard')
    .description("The production guard: resolve a command's targets to addresses and decide.")
    .option('--inventory-parser <which>', 'builtin | ansible | auto (ansible-inventory when installed)', 'auto');

  guard
    .command('check')
    .description('Print the verdict for these targets (exit 0 allowed, 3 blocked, 2 bad input).')
    .option('--inventory <path...>', 'Ansible inventory: file, folder or host1,host2, (repeatable)')
    .option('--limit <pattern>', 'Ansible --limit for the inventories: only the hosts it selects count')
    .option('--kubeconfig <path>', 'kubeconfig file')
    .option('--context <name>', 'kube context (default: the current one)')
    .option('--host <host...>', 'host name or address (repeatable)')
    .option('--tf-dir <dir>', 'OpenTofu/Terraform directory: its backend and provider endpoints')
    .addHelpText(
      'after',
      '\nExample:\n  infra-sandbox guard check --inventory ansible/inventories/production/hosts.ini --limit pi2',
    )
    .action(async (opts: CheckOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GuardGlobal & CheckOptions>();
      if (!opts.inventory && !opts.kubeconfig && !opts.context && !opts.host && !opts.tfDir) {
        throw new InfraSandboxError(
          'guard check needs at least one target: --inventory, --kubeconfig/--context, --host or --tf-dir.',
          ExitCode.usage,
        );
      }
      const options = await guardOptions(g);
      const result = await guardTargets(
        {
          inventories: opts.inventory,
          limit: opts.limit,
          kubeconfig: opts.kubeconfig,
          context: opts.context,
          hosts: opts.host,
          tfDir: opts.tfDir,
        },
        options,
      );
      process.exitCode = report(result, g.json === true, 'check');
    });

  guard
    .command('exec')
    .description('Run a command only if none of its targets is production; otherwise refuse (exit 3).')
    .argument('<command...>', 'the command and its arguments, after --')
    .showHelpAfterError(
      '(put -- before the command, so its options stay its own: infra-sandbox guard exec -- CMD ARGS…)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  infra-sandbox guard exec -- ansible-playbook -i inventories/production site.yml\n\nAllowed: the real command runs with its own stdio and exit code. Blocked: nothing runs, exit 3.',
    )
    .action(async (argv: string[], _opts: object, cmd: Command) => {
      const g = cmd.optsWithGlobals<GuardGlobal>();
      process.exitCode = await guardExec(argv, g);
    });
}

interface CheckOptions {
  inventory?: string[];
  limit?: string;
  kubeconfig?: string;
  context?: string;
  host?: string[];
  tfDir?: string;
}

/** The options the guard decides with, from this process's cwd and environment. */
async function guardOptions(g: GuardGlobal): Promise<GuardOptions & { configFile?: string }> {
  const cwd = process.cwd();
  const file = guardConfigFile(g.config, cwd, process.env);
  if (!file) process.stderr.write(NO_CONFIG_WARNING);
  const config = file ? await loadGuardConfig(file) : undefined;
  return { cwd, env: process.env, config, configFile: file, inventoryParser: checkInventoryParser(g.inventoryParser) };
}

function report(result: GuardResult, json: boolean, mode: 'check' | 'exec'): number {
  const outcome = describeOutcome(result, {
    mode,
    json,
    colorStdout: process.stdout.isTTY === true,
    colorStderr: process.stderr.isTTY === true,
  });
  if (outcome.stdout) process.stdout.write(outcome.stdout);
  if (outcome.stderr) process.stderr.write(outcome.stderr);
  return outcome.exitCode;
}

async function guardExec(argv: string[], g: GuardGlobal): Promise<number> {
  if (argv.length === 0) throw new InfraSandboxError('guard exec needs a command after --', ExitCode.usage);
  // A warm companion decides (its caches, no second start-up of the parsers); else this process does.
  if (g.json !== true && process.env[NO_COMPANION_ENV] !== '1') {
    const env = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const remote = await decideViaCompanion({
      argv,
      cwd: process.cwd(),
      env,
      ...(g.config ? { configFile: resolve(g.config) } : {}),
      inventoryParser: checkInventoryParser(g.inventoryParser),
      color: process.stderr.isTTY === true,
    });
    if (remote) {
      if (remote.message) process.stderr.write(remote.message);
      if (remote.exitCode !== ExitCode.ok) return remote.exitCode;
      if (!remote.executable) throw new InfraSandboxError(notFoundMessage(argv[0]), ExitCode.toolMissing);
      return runInherited(remote.executable, argv[0], argv.slice(1));
    }
  }
  const options = await guardOptions(g);
  const result = await guardCommand(argv, options);
  if (options.configFile && options.config) await recordVerdict(options.configFile, options.cwd, recorded(result));
  const code = report(result, g.json === true, 'exec');
  if (code !== ExitCode.ok) return code;

  const [command, ...args] = argv;
  const executable = realExecutable(command, options.cwd, process.env);
  if (!executable) throw new InfraSandboxError(notFoundMessage(command), ExitCode.toolMissing);
  return runInherited(executable, command, args);
}

/** Runs the allowed command with this process's stdio and returns its exit code; a signal death is passed on. */
function runInherited(executable: string, argv0: string, args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(executable, args, { stdio: 'inherit', argv0 });
    // Like a shell: the terminal's Ctrl-C reaches the child (same process group); we wait for it.
    const ignore = () => {};
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onTerm = forward('SIGTERM');
    const onHup = forward('SIGHUP');
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    child.on('error', (err) => {
      process.stderr.write(`infra-sandbox: could not start ${argv0}: ${err.message}\n`);
      done(126);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (signal) {
        process.kill(process.pid, signal);
        done(128 + (signalNumber(signal) ?? 1));
      } else done(code ?? 1);
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return constants.signals[signal];
}
