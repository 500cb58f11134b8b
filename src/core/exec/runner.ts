import type { ResultPromise } from 'execa';
import type { CancellationTokenLike } from '../cancellation';
import { silentLogger, type Logger } from '../log';
import { CancelledError, displayCommand, ProcessError, ToolMissingError } from './errors';
import { installHint } from './tools';
import { which } from './which';

/** What a tool client builds (STYLE habit 4): the command, its argument array, and how to read its output. */
export interface CommandSpec<T = ProcessOutput> {
  command: string;
  args: readonly string[];
  /** Exit codes that are not failures (default: only 0). */
  okExitCodes?: readonly number[];
  parse?: (output: ProcessOutput) => T;
}

export interface ProcessOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  cwd?: string;
  /** Full environment for the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  input?: string;
  token?: CancellationTokenLike;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  log?: Logger;
  /** Grace period between SIGTERM and SIGKILL on cancellation (ms). */
  killGraceMs?: number;
}

/**
 * The one place that starts processes: an argument array (never a shell), the executable looked up
 * on PATH (never the working folder), the whole process tree killed on cancellation, and typed
 * errors — ToolMissingError, ProcessError, CancelledError.
 */
export async function run<T = ProcessOutput>(spec: CommandSpec<T>, options: RunOptions = {}): Promise<T> {
  const log = options.log ?? silentLogger;
  const env = options.env ?? process.env;
  const executable = which(spec.command, env.PATH);
  if (!executable) throw new ToolMissingError(spec.command, installHint(spec.command));
  const commandLine = displayCommand(spec.command, spec.args);
  if (options.token?.isCancellationRequested) throw new CancelledError(commandLine);
  log.debug(`$ ${commandLine}${options.cwd ? `   (in ${options.cwd})` : ''}`);

  // Loaded on first use (execa is ESM-only and not needed until a process runs).
  const { execa } = await import('execa');
  const child: ResultPromise = execa(executable, [...spec.args], {
    cwd: options.cwd,
    env,
    extendEnv: false,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    stripFinalNewline: false,
    // Its own process group, so cancellation reaches grandchildren too.
    detached: true,
    windowsHide: true,
  });
  forwardLines(child.stdout, options.onStdoutLine);
  forwardLines(child.stderr, options.onStderrLine);

  let cancelled = false;
  const subscription = options.token?.onCancellationRequested(() => {
    cancelled = true;
    killTree(child.pid, options.killGraceMs ?? 3000);
  });
  try {
    const result = await child;
    if (cancelled) throw new CancelledError(commandLine);
    const output: ProcessOutput = {
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      exitCode: result.exitCode ?? -1,
    };
    if (result.signal || !(spec.okExitCodes ?? [0]).includes(output.exitCode)) {
      if (output.stderr.trim()) log.error(output.stderr.trim());
      throw new ProcessError(commandLine, result.exitCode, result.signal, output.stderr);
    }
    return spec.parse ? spec.parse(output) : (output as T);
  } finally {
    subscription?.dispose();
  }
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: ((line: string) => void) | undefined): void {
  if (!stream || !onLine) return;
  let pending = '';
  stream.on('data', (chunk: Buffer | string) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}

function killTree(pid: number | undefined, graceMs: number): void {
  if (pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), graceMs).unref();
}
