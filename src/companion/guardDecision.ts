/**
 * The decision `guard exec` makes before it runs anything, shared by the CLI (commands/guard.ts)
 * and the companion (its `guard/decide` request and the shims' HTTP fast path), so both print the
 * same text and exit with the same code for the same command, cwd and environment.
 */
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { findConfigUpward, formatProblem, loadConfig, type WorkspaceConfig } from '../core/config';
import { InfraSandboxError, installHint, which } from '../core/exec';
import { ExitCode } from '../core/exitCodes';
import { formatVerdict, verdictWarnings } from '../core/guard/format';
import { guardCommand, type GuardOptions, type GuardResult } from '../core/guard/guard';
import { CONFIG_ENV, isShim, SHIM_DIR_ENV, whichReal } from '../core/guard/shims';
import type { InputProblem, InventoryParserChoice, Verdict } from '../core/guard/types';
import { recordVerdict } from '../core/guard/verdictLog';
import type { GuardDecideParams, GuardDecideResult } from '../protocol/companion';

export const NO_CONFIG_WARNING =
  'infra-sandbox: warning: no infra-sandbox.yaml here or above (and no --config): there is no production boundary, so nothing counts as production.\n';

/** The config the guard decides with: --config, $INFRA_SANDBOX_CONFIG (set in guarded terminals), else upward. */
export function guardConfigFile(explicit: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit) return resolve(cwd, explicit);
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) return resolve(cwd, fromEnv);
  return findConfigUpward(cwd);
}

/** A validated config by file; reloaded when the file's size or mtime changes (the companion keeps one). */
export class ConfigCache {
  private readonly entries = new Map<string, { mtimeMs: number; size: number; config: WorkspaceConfig }>();
  constructor(private readonly max = 32) {}

  async load(file: string): Promise<WorkspaceConfig> {
    const s = await stat(file).catch(() => undefined);
    const hit = this.entries.get(file);
    if (s && hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit.config;
    const config = await loadGuardConfig(file);
    if (s) {
      this.entries.delete(file);
      this.entries.set(file, { mtimeMs: s.mtimeMs, size: s.size, config });
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    }
    return config;
  }
}

/** Loads the boundary; a broken config fails closed (InfraSandboxError, exit 2): nothing may run. */
export async function loadGuardConfig(file: string): Promise<WorkspaceConfig> {
  const loaded = await loadConfig(file);
  if (!loaded.ok) {
    const lines = loaded.problems.map((p) => `  ${formatProblem(p)}`).join('\n');
    throw new InfraSandboxError(
      `${file} has problems, so the guard cannot tell what production is; nothing was run.\n${lines}`,
      ExitCode.usage,
    );
  }
  return loaded.config;
}

export function checkInventoryParser(parser: string | undefined): InventoryParserChoice {
  const p = parser ?? 'auto';
  if (!['builtin', 'ansible', 'auto'].includes(p)) {
    throw new InfraSandboxError(`--inventory-parser must be builtin, ansible or auto (got ${p})`, ExitCode.usage);
  }
  return p as InventoryParserChoice;
}

/** `file:line:col: message`, or just `file: message` when there is no line (a tool's own failure). */
export function formatInputProblem(p: InputProblem): string {
  return `${p.file}${p.line > 0 ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: ${p.message}`;
}

/** What the verdict log keeps: a command refused for unreadable input was blocked, whatever its targets said. */
export function recorded(result: GuardResult): Verdict {
  const { verdict, problems } = result;
  if (problems.length === 0) return verdict;
  const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : '';
  return { ...verdict, verdict: 'block', reason: `cannot decide: ${formatInputProblem(problems[0])}${more}` };
}

export interface OutcomeOptions {
  mode: 'check' | 'exec';
  json?: boolean;
  /** ANSI colours for the stdout / stderr text (each only for a TTY). */
  colorStdout?: boolean;
  colorStderr?: boolean;
}

/** What `guard check` / `guard exec` print and exit with for a decided result (before running anything). */
export interface Outcome {
  exitCode: 0 | 2 | 3;
  stdout: string;
  stderr: string;
}

export function describeOutcome(result: GuardResult, opts: OutcomeOptions): Outcome {
  const { verdict, problems } = result;
  const json = opts.json === true;
  let stdout = '';
  let stderr = '';
  if (problems.length > 0) {
    const lines = problems.map(formatInputProblem);
    if (json) stdout += jsonDoc({ verdict: 'block', problems, targets: verdict.targets, reason: 'bad input' });
    stderr += `infra-sandbox: cannot decide — ${problems.length === 1 ? 'an input is' : 'inputs are'} unreadable; nothing was run.\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    return { exitCode: ExitCode.usage, stdout, stderr };
  }
  if (json && opts.mode === 'check') stdout += jsonDoc(verdict);
  else if (json) stderr += `${JSON.stringify(verdict)}\n`;
  if (verdict.verdict === 'block') {
    stderr += `${formatVerdict(verdict, { color: opts.colorStderr === true })}\n`;
    return { exitCode: ExitCode.blocked, stdout, stderr };
  }
  // `check` shows the whole verdict; an allowed `exec` stays quiet unless something needs a warning.
  if (!json && opts.mode === 'check') {
    stdout += `${formatVerdict(verdict, { color: opts.colorStdout === true, detail: true })}\n`;
  } else if (!json && verdictWarnings(verdict).length > 0) {
    stderr += `${formatVerdict(verdict, { color: opts.colorStderr === true })}\n`;
  }
  return { exitCode: ExitCode.ok, stdout, stderr };
}

function jsonDoc(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The real command an allowed `guard exec` runs: on PATH without the shims, so a shim never finds
 * itself (or another window's); a path (`./x`, `/usr/bin/x`) is taken as given unless it is a shim.
 */
export function realExecutable(command: string, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const shimDir = env[SHIM_DIR_ENV];
  const path = command.includes('/') ? resolve(cwd, command) : undefined;
  return path && !isShim(path) ? which(path) : whichReal(path ? basename(path) : command, env.PATH, shimDir);
}

export function notFoundMessage(command: string): string {
  return `${command}: not found on PATH (the guard allowed it, but there is no such command to run). ${installHint(command)}`;
}

/**
 * `guard exec`'s decision for a caller elsewhere (a shim, a client): the same config lookup, the
 * same verdict, recorded in the same verdict log, and the same text `guard exec` would print.
 */
export async function decideCommand(params: GuardDecideParams, configs?: ConfigCache): Promise<GuardDecideResult> {
  const { argv, cwd, env } = params;
  const empty = { verdict: emptyVerdict(argv), problems: [] };
  if (argv.length === 0 || !isAbsolute(cwd)) {
    return { ...empty, exitCode: ExitCode.usage, message: 'infra-sandbox: guard exec needs a command after --\n' };
  }
  let message = '';
  let options: GuardOptions & { configFile?: string };
  try {
    const configFile = guardConfigFile(params.configFile, cwd, env);
    if (!configFile) message += NO_CONFIG_WARNING;
    const config = configFile ? await (configs ? configs.load(configFile) : loadGuardConfig(configFile)) : undefined;
    options = { cwd, env, config, configFile, inventoryParser: checkInventoryParser(params.inventoryParser) };
  } catch (err) {
    if (!(err instanceof InfraSandboxError)) throw err;
    return { ...empty, exitCode: ExitCode.usage, message: `${message}infra-sandbox: ${err.message}\n` };
  }
  const result = await guardCommand(argv, options);
  if (options.configFile && options.config) await recordVerdict(options.configFile, cwd, recorded(result));
  const outcome = describeOutcome(result, { mode: 'exec', colorStderr: params.color === true });
  message += outcome.stderr;
  const decided: GuardDecideResult = { ...result, exitCode: outcome.exitCode, message };
  if (outcome.exitCode !== ExitCode.ok) return decided;
  const executable = realExecutable(argv[0], cwd, env);
  if (executable) decided.executable = executable;
  else decided.missing = `infra-sandbox: ${notFoundMessage(argv[0])}\n`;
  return decided;
}

function emptyVerdict(argv: string[]): Verdict {
  return {
    verdict: 'block',
    environment: 'sandbox',
    targets: [],
    reason: 'nothing was decided',
    notes: [],
    command: argv,
  };
}
