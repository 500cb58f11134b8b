import { type Command } from 'commander';
import { ExitCode } from '../../core/exitCodes';
import { InfraSandboxError } from '../../core/exec';
import { VERSION } from '../version';

/**
 * The commands of SPEC §4 that later work delivers. They are listed with their real options so
 * `--help` documents the contract, and they refuse honestly (exit 2) instead of pretending to work.
 */
export function registerPlannedCommands(program: Command): void {
  const gate = program.command('gate').description('Idempotence and plan-diff gates.');
  planned(
    gate
      .command('idempotence')
      .requiredOption('--playbook <path>', 'playbook to gate')
      .option('--sandbox <name>', 'sandbox to run against')
      .option('--inventory <path>', "inventory (default: the sandbox's generated one)")
      .option('--mode <mode>', 'check | converge-then-check | second-run', 'check')
      .option('--junit <file>', 'also write a JUnit report')
      .option('--sarif <file>', 'also write a SARIF report'),
    'ansible-playbook --check --diff must report changed=0',
  );
  planned(
    gate
      .command('plan')
      .option('--dir <dir>', 'OpenTofu/Terraform directory')
      .option('--plan-json <file>', 'an existing `tofu show -json` output (needs no tofu)')
      .option('--sandbox <name>', 'sandbox whose state to plan against')
      .option('--expect <what>', 'no-changes | any')
      .option('--junit <file>', 'also write a JUnit report')
      .option('--sarif <file>', 'also write a SARIF report'),
    'plan summary checked against policy',
  );

  const promote = program.command('promote').description('Promotion to production.');
  planned(promote.command('check').argument('<path>'), 'is there a passing gate for this exact content?');

  const env = program.command('env').description('Show or switch the active environment.');
  planned(env.command('show', { isDefault: true }), 'the active environment');
  planned(
    env
      .command('use')
      .argument('<environment>', 'sandbox | production')
      .option('--reason <text>', 'why (required for production)'),
    'switch environment (production is time-boxed)',
  );
}

function planned(command: Command, summary: string): void {
  command.description(`${summary} (not yet available in ${VERSION})`).action(() => {
    throw new InfraSandboxError(
      `\`infra-sandbox ${fullName(command)}\` is not available yet in version ${VERSION}; nothing was done.`,
      ExitCode.usage,
    );
  });
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
