import { ExitCode } from '../exitCodes';

/** A command line for messages and logs; arguments with spaces or quotes are quoted, nothing is run through a shell. */
export function displayCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Base class for errors the CLI turns into an exit code and a one-paragraph message (never a stack trace). */
export class InfraSandboxError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A required tool is not installed (exit 4). */
export class ToolMissingError extends InfraSandboxError {
  constructor(
    readonly tool: string,
    readonly installHint: string,
  ) {
    super(`${tool} is not installed or not on PATH. ${installHint}`, ExitCode.toolMissing);
  }
}

/** A process ran and failed. */
export class ProcessError extends InfraSandboxError {
  constructor(
    readonly commandLine: string,
    readonly processExitCode: number | undefined,
    readonly signal: string | undefined,
    readonly stderr: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${processExitCode}`;
    const tail = stderr.trim().split('\n').slice(-10).join('\n');
    super(`${commandLine} ${how}${tail ? `:\n${tail}` : ''}`, ExitCode.usage);
  }
}

/** The user cancelled (exit 130). */
export class CancelledError extends InfraSandboxError {
  constructor(what = 'operation') {
    super(`${what} cancelled`, ExitCode.cancelled);
  }
}
