import { type Command } from 'commander';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { basename, resolve } from 'node:path';
import { findConfigUpward, formatProblem, loadConfig, type WorkspaceConfig } from '../../core/config';
import { InfraSandboxError, installHint, which } from '../../core/exec';
import { ExitCode } from '../../core/exitCodes';
import { formatVerdict, verdictWarnings } from '../../core/guard/format';
import { guardCommand, guardTargets, type GuardResult } from '../../core/guard/guard';
import { CONFIG_ENV, isShim, SHIM_DIR_ENV, whichReal } from '../../core/guard/shims';
import { recordVerdict } from '../../core/guard/verdictLog';
import type { InputProblem, InventoryParserChoice, Verdict } from '../../core/guard/types';
import { printJson, type GlobalOptions } from '../context';

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

/** The config the guard decides with: --config, $INFRA_SANDBOX_CONFIG (set in guarded terminals), else upward. */
async function guardOptions(g: GuardGlobal) {
  const cwd = process.cwd();
  const file = g.config
    ? resolve(cwd, g.config)
    : process.env[CONFIG_ENV]
      ? resolve(cwd, process.env[CONFIG_ENV])
      : findConfigUpward(cwd);
  let config: WorkspaceConfig | undefined;
  if (!file) {
    process.stderr.write(
      'infra-sandbox: warning: no infra-sandbox.yaml here or above (and no --config): there is no production boundary, so nothing counts as production.\n',
    );
  }
  if (file) {
    const loaded = await loadConfig(file);
    // Fail closed: with a broken boundary (validation checks the networks too) nothing runs.
    if (!loaded.ok) {
      const lines = loaded.problems.map((p) => `  ${formatProblem(p)}`).join('\n');
      throw new InfraSandboxError(
        `${file} has problems, so the guard cannot tell what production is; nothing was run.\n${lines}`,
        ExitCode.usage,
      );
    }
    config = loaded.config;
  }
  const parser = g.inventoryParser ?? 'auto';
  if (!['builtin', 'ansible', 'auto'].includes(parser)) {
    throw new InfraSandboxError(`--inventory-parser must be builtin, ansible or auto (got ${parser})`, ExitCode.usage);
  }
  return { cwd, env: process.env, config, configFile: file, inventoryParser: parser as InventoryParserChoice };
}

/** `file:line:col: message`, or just `file: message` when there is no line (a tool's own failure). */
function formatInputProblem(p: InputProblem): string {
  return `${p.file}${p.line > 0 ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: ${p.message}`;
}

/** What the verdict log keeps: a command refused for unreadable input was blocked, whatever its targets said. */
function recorded(result: GuardResult): Verdict {
  const { verdict, problems } = result;
  if (problems.length === 0) return verdict;
  const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : '';
  return { ...verdict, verdict: 'block', reason: `cannot decide: ${formatInputProblem(problems[0])}${more}` };
}

function report(result: GuardResult, json: boolean, mode: 'check' | 'exec'): number {
  const { verdict, problems } = result;
  if (problems.length > 0) {
    const lines = problems.map(formatInputProblem);
    if (json) printJson({ verdict: 'block', problems, targets: verdict.targets, reason: 'bad input' });
    process.stderr.write(
      `infra-sandbox: cannot decide — ${problems.length === 1 ? 'an input is' : 'inputs are'} unreadable; nothing was run.\n${lines.map((l) => `  ${l}`).join('\n')}\n`,
    );
    return ExitCode.usage;
  }
  if (json && mode === 'check') printJson(verdict);
  else if (json) process.stderr.write(`${JSON.stringify(verdict)}\n`);
  if (verdict.verdict === 'block') {
    process.stderr.write(`${formatVerdict(verdict, { color: process.stderr.isTTY === true })}\n`);
    return ExitCode.blocked;
  }
  // `check` shows the whole verdict; an allowed `exec` stays quiet unless something needs a warning.
  if (!json && mode === 'check') {
    process.stdout.write(`${formatVerdict(verdict, { color: process.stdout.isTTY === true, detail: true })}\n`);
  } else if (!json && verdictWarnings(verdict).length > 0) {
    process.stderr.write(`${formatVerdict(verdict, { color: process.stderr.isTTY === true })}\n`);
  }
  return ExitCode.ok;
}

async function guardExec(argv: string[], g: GuardGlobal): Promise<number> {
  if (argv.length === 0) throw new InfraSandboxError('guard exec needs a command after --', ExitCode.usage);
  const options = await guardOptions(g);
  const result = await guardCommand(argv, options);
  if (options.configFile && options.config) await recordVerdict(options.configFile, options.cwd, recorded(result));
  const code = report(result, g.json === true, 'exec');
  if (code !== ExitCode.ok) return code;

  // The real command: on PATH without the shims, so a shim never finds itself (or another window's).
  const [command, ...args] = argv;
  const shimDir = process.env[SHIM_DIR_ENV];
  const path = command.includes('/') ? resolve(options.cwd, command) : undefined;
  const executable =
    path && !isShim(path) ? which(path) : whichReal(path ? basename(path) : command, process.env.PATH, shimDir);
  if (!executable) {
    throw new InfraSandboxError(
      `${command}: not found on PATH (the guard allowed it, but there is no such command to run). ${installHint(command)}`,
      ExitCode.toolMissing,
    );
  }
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
