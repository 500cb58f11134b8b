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
  /**
   * The fast path: bash (e.g. /bin/bash) and the companion's `companion.env` (port and token). The
   * shim then asks a running companion for the verdict over loopback HTTP (bash's /dev/tcp, no new
   * Node process) and runs `guard exec` only when no companion answers. Without it: always `guard exec`.
   */
  fastPath?: { bash: string; companionEnv: string };
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
  const slow = `${env}exec ${quote(runtime.executable)} ${quote(runtime.cli)} ${guardArgs} exec -- ${command} "$@"`;
  const head = [
    `${MARKER} \`${command}\` (generated; the setting infraSandbox.guard.terminalShims turns it off).`,
    `# It asks the production guard first; blocked commands never start (exit 3).`,
  ];
  if (!runtime.fastPath) return ['#!/bin/sh', ...head, slow, ''].join('\n');
  return [
    `#!${runtime.fastPath.bash}`,
    ...head,
    '# A running companion decides over loopback (no new Node process); without one, `guard exec` does.',
    `isb_env=${quote(runtime.fastPath.companionEnv)}`,
    `isb_cmd=${command}`,
    `isb_parser=${parser}`,
    FAST_PATH,
    slow,
    '',
  ].join('\n');
}

/**
 * The bash fast path, the same text in every shim (only isb_env, isb_cmd and isb_parser differ). It
 * sends `POST /guard/decide` (Accept: text/plain) with the command line, the working folder and the exported
 * environment as JSON (escaped here; an argument with other control characters takes the slow path),
 * reads the exit code, the executable and the message, and either prints the refusal and exits 2/3
 * or execs the real executable. Any failure (no companion, no answer in 15 s, an odd reply) falls
 * through to the line after it: `guard exec`, which decides on its own.
 */
const FAST_PATH = `isb_json() {
  local s=$1
  [[ $s == *[$'\\x01'-$'\\x08\\x0b\\x0c\\x0e'-$'\\x1f\\x7f']* ]] && return 1
  s=\${s//\\\\/\\\\\\\\}; s=\${s//\\"/\\\\\\"}; s=\${s//$'\\n'/\\\\n}; s=\${s//$'\\t'/\\\\t}; s=\${s//$'\\r'/\\\\r}
  isb_out+="\\"$s\\""
}
isb_fast() {
  local port='' token='' k v name first=1 LC_ALL=C
  [[ -r $isb_env ]] || return 1
  while IFS='=' read -r k v; do
    case $k in port) port=$v ;; token) token=$v ;; esac
  done < "$isb_env"
  [[ $port =~ ^[0-9]+$ && $token =~ ^[0-9a-f]+$ ]] || return 1
  isb_out='{"argv":['
  isb_json "$isb_cmd" || return 1
  for v in "$@"; do isb_out+=','; isb_json "$v" || return 1; done
  isb_out+='],"cwd":'; isb_json "$PWD" || return 1
  isb_out+=',"inventoryParser":"'"$isb_parser"'"'
  [[ -t 2 ]] && isb_out+=',"color":true'
  isb_out+=',"env":{'
  for name in $(compgen -e); do
    [[ $first ]] || isb_out+=','; first=''
    isb_out+="\\"$name\\":"; isb_json "\${!name}" || return 1
  done
  isb_out+='}}'
  { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'POST /guard/decide HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Infra-Sandbox-Token: %s\\r\\nAccept: text/plain\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' "$token" "\${#isb_out}" "$isb_out" >&9 || return 1
  local status line code exe message=''
  IFS= read -r -t 15 status <&9 || return 1
  [[ $status == 'HTTP/1.1 200'* ]] || return 1
  while IFS= read -r -t 15 line <&9 && [[ $line != $'\\r' && -n $line ]]; do :; done
  IFS= read -r -t 15 code <&9 && IFS= read -r -t 15 exe <&9 && IFS= read -r -t 15 line <&9 || return 1
  [[ $code =~ ^exit=([0-9]+)$ && $exe == executable=* && -z $line ]] || return 1
  code=\${BASH_REMATCH[1]} exe=\${exe#executable=}
  while IFS= read -r -t 15 line <&9; do message+="$line"$'\\n'; done
  message+=$line
  exec 9<&-
  case $code in
    0) [[ -x $exe ]] || return 1
       [[ -n $message ]] && printf '%s' "$message" >&2
       exec -a "$isb_cmd" "$exe" "$@" ;;
    2|3) printf '%s' "$message" >&2; exit "$code" ;;
  esac
  return 1
}
isb_fast "$@"`;

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
