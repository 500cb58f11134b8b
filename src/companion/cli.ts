import { Command, CommanderError } from 'commander';
import { ExitCode } from '../core/exitCodes';
import { InfraSandboxError } from '../core/exec';
import { registerConfigCommands } from './commands/config';
import { registerGuardCommands } from './commands/guard';
import { registerInitCommand } from './commands/init';
import { registerLedgerCommand } from './commands/ledger';
import { registerOpsCommand } from './commands/ops';
import { registerPlannedCommands } from './commands/planned';
import { registerSandboxCommands } from './commands/sandbox';
import { registerServeCommand } from './commands/serve';
import { VERSION } from './version';

/** `infra-sandbox`: the CLI for people and CI (SPEC §4). Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    return reportError(err, program.opts<{ json?: boolean }>().json === true);
  }
}

function buildProgram(): Command {
  const program = new Command('infra-sandbox')
    .description('Make the mistake first, where it cannot reach production.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--config <path>', 'infra-sandbox.yaml to use (default: found upward from the current folder)')
    .option('--json', 'print one JSON document on stdout; progress and logs go to stderr')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok/pass/allowed · 1 gate failed · 2 usage or bad input · 3 blocked by the guard · 4 a required tool is missing · 130 cancelled',
    );
  // Every subcommand, however deep, reports usage errors with exit 2 instead of exiting itself.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  registerInitCommand(program);
  registerConfigCommands(program);
  registerGuardCommands(program);
  registerLedgerCommand(program);
  registerSandboxCommands(program);
  registerPlannedCommands(program);
  registerServeCommand(program);
  registerOpsCommand(program);
  configure(program);
  return program;
}

function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const known = err instanceof InfraSandboxError;
  const message = known
    ? err.message
    : `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  const code = known ? err.exitCode : ExitCode.usage;
  process.stderr.write(`infra-sandbox: ${message}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: { message, exitCode: code } })}\n`);
  return code;
}
