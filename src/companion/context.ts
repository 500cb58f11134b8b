import { resolve } from 'node:path';
import { findConfigUpward } from '../core/config';
import { ExitCode } from '../core/exitCodes';
import { InfraSandboxError } from '../core/exec';

/** Options every command takes (SPEC §4). */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** The config file a command works on: `--config`, else the nearest `infra-sandbox.yaml` upward from the cwd. */
export function resolveConfigPath(options: GlobalOptions, cwd = process.cwd()): string {
  if (options.config) return resolve(cwd, options.config);
  const found = findConfigUpward(cwd);
  if (!found) {
    throw new InfraSandboxError(
      `no infra-sandbox.yaml found in ${cwd} or any parent folder. Create one with \`infra-sandbox init\`, or pass --config PATH.`,
      ExitCode.usage,
    );
  }
  return found;
}

/** Writes the command's one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
