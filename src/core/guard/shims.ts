import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from '../exec/which';

/** Environment variable naming the shim folder, so `guard exec` can skip it when it looks for the real tool. */
export const SHIM_DIR_ENV = 'INFRA_SANDBOX_SHIM_DIR';
/** Environment variable naming the workspace's infra-sandbox.yaml for commands typed in its terminals. */
export const CONFIG_ENV = 'INFRA_SANDBOX_CONFIG';

export interface ShimRuntime {
  /** Executable that runs the CLI: `node`, or VS Code's own runtime with ELECTRON_RUN_AS_NODE=1. */
  executable: string;
  /** dist/cli.js */
  cli: string;
  /** Set ELECTRON_RUN_AS_NODE=1 for the runtime (VS Code's Electron). */
  electron: boolean;
  /** `guard --inventory-parser` for the commands (the setting infraSandbox.guard.inventoryParser); default auto. */
  inventoryParser?: 'auto' | 'builtin' | 'ansible';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/** The second line of every shim: how a shim is recognised, whichever window wrote it. */
const MARKER = '# Infra Sandbox guard shim for';

/** A POSIX shell word in single quotes: the one safe spelling for any path. */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The text of one shim: a fixed script that hands its arguments, untouched ("$@"), to
 * `infra-sandbox guard exec -- NAME …`. Only the runtime paths and the command name (checked
 * against a strict pattern) are written into it; nothing the user types is ever interpolated.
 */
export function shimScript(command: string, runtime: ShimRuntime): string {
  if (!NAME.test(command)) throw new Error(`not a command name a shim can stand for: ${JSON.stringify(command)}`);
  const env = runtime.electron ? 'ELECTRON_RUN_AS_NODE=1 ' : '';
  const parser = runtime.inventoryParser ?? 'auto';
  if (!['auto', 'builtin', 'ansible'].includes(parser)) throw new Error(`not an inventory parser: ${parser}`);
  const guardArgs = parser === 'auto' ? 'guard' : `guard --inventory-parser ${parser}`;
  return [
    '#!/bin/sh',
    `${MARKER} \`${command}\` (generated; the setting infraSandbox.guard.terminalShims turns it off).`,
    `# It asks the production guard first; blocked commands never start (exit 3).`,
    `${env}exec ${quote(runtime.executable)} ${quote(runtime.cli)} ${guardArgs} exec -- ${command} "$@"`,
    '',
  ].join('\n');
}

/**
 * Writes one shim per command into `dir` (created 0700), replacing the folder's previous shims;
 * each file is written to a temporary name and renamed, so a terminal never runs a half-written shim.
 */
export async function writeShims(dir: string, commands: readonly string[], runtime: ShimRuntime): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const wanted = [...new Set(commands)].filter((c) => NAME.test(c));
  for (const command of wanted) {
    const file = join(dir, command);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, shimScript(command, runtime), { mode: 0o755 });
    await chmod(tmp, 0o755);
    await rename(tmp, file);
  }
  for (const existing of await readdir(dir)) {
    if (!wanted.includes(existing)) await rm(join(dir, existing), { force: true });
  }
  return wanted;
}

/** PATH without the given folders (the shims), keeping order. */
export function pathWithout(pathEnv: string | undefined, exclude: readonly (string | undefined)[]): string {
  const drop = new Set(exclude.filter((x): x is string => !!x).map((d) => d.replace(/\/+$/, '')));
  return (pathEnv ?? '')
    .split(':')
    .filter((d) => d && !drop.has(d.replace(/\/+$/, '')))
    .join(':');
}

/**
 * The real `command`: the first on PATH that is not a guard shim. The shim folder named by
 * INFRA_SANDBOX_SHIM_DIR is skipped, and so is any other shim — another window's folder left on
 * PATH, or a terminal that lost the variable — which would otherwise run `guard exec` for ever.
 */
export function whichReal(
  command: string,
  pathEnv: string | undefined,
  shimDir: string | undefined,
): string | undefined {
  for (const dir of pathWithout(pathEnv, [shimDir]).split(':')) {
    const found = dir ? which(command, dir) : undefined;
    if (found && !isShim(found)) return found;
  }
  return undefined;
}

/** Whether `file` is a shim written by `writeShims` (it reads the first 256 bytes). */
export function isShim(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').includes(MARKER);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
