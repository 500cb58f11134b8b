import type { Command } from 'commander';
import { relative } from 'node:path';
import { formatProblem, loadConfig } from '../../core/config';
import { ExitCode } from '../../core/exitCodes';
import { printJson, resolveConfigPath, type GlobalOptions } from '../context';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Work with the workspace configuration (infra-sandbox.yaml).');
  config
    .command('check')
    .description('Validate infra-sandbox.yaml against its schema; print each problem as file:line:col key: message.')
    .action(async (_opts: object, cmd: Command) => {
      process.exitCode = await checkConfig(cmd.optsWithGlobals<GlobalOptions>());
    });
}

async function checkConfig(options: GlobalOptions): Promise<number> {
  const file = resolveConfigPath(options);
  const result = await loadConfig(file);
  const shown = relative(process.cwd(), file) || file;
  if (options.json) {
    printJson(
      result.ok
        ? { valid: true, file, problems: [] }
        : { valid: false, file, problems: result.problems.map((p) => ({ ...p, file: p.file })) },
    );
  } else if (result.ok) {
    const sandboxes = Object.keys(result.config.sandboxes ?? {}).length;
    const gates = (result.config.gates?.idempotence?.length ?? 0) + (result.config.gates?.plan?.length ?? 0);
    process.stdout.write(
      `${shown}: valid (${plural(sandboxes, 'sandbox', 'sandboxes')}, ${plural(gates, 'gate', 'gates')})\n`,
    );
  } else {
    for (const p of result.problems) process.stderr.write(`${formatProblem({ ...p, file: shown })}\n`);
    process.stderr.write(`${plural(result.problems.length, 'problem', 'problems')} in ${shown}\n`);
  }
  return result.ok ? ExitCode.ok : ExitCode.usage;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
