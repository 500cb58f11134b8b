/**
 * Where the companion is found: the runtime folder holds `companion.json` (CompanionInfo, for the
 * CLI and the extension) and `companion.env` (`port=N` and `token=HEX`, for the terminal shims),
 * both 0600 in a 0700 folder of the user's own. The state folder holds the operations journal.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InfraSandboxError } from '../core/exec';
import { ExitCode } from '../core/exitCodes';
import type { CompanionInfo } from '../protocol/companion';

export const RUNTIME_DIR_ENV = 'INFRA_SANDBOX_RUNTIME_DIR';
export const STATE_DIR_ENV = 'INFRA_SANDBOX_STATE_DIR';
export const INFO_FILE = 'companion.json';
export const ENV_FILE = 'companion.env';
export const JOURNAL_FILE = 'operations.jsonl';

/** `$INFRA_SANDBOX_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/infra-sandbox`, else `~/.cache/infra-sandbox/run`. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[RUNTIME_DIR_ENV]) return env[RUNTIME_DIR_ENV];
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'infra-sandbox');
  return join(homedir(), '.cache', 'infra-sandbox', 'run');
}

/** `$INFRA_SANDBOX_STATE_DIR`, else `$XDG_STATE_HOME/infra-sandbox`, else `~/.local/state/infra-sandbox`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[STATE_DIR_ENV]) return env[STATE_DIR_ENV];
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'infra-sandbox');
  return join(homedir(), '.local', 'state', 'infra-sandbox');
}

/**
 * Creates `dir` (0700) or checks the existing one: a folder of ours that nobody else can write.
 * A folder owned by another user, or writable by group or others, is refused (someone could plant
 * a companion.json there and collect the token a client sends); a merely readable one is tightened.
 */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const s = lstatSync(dir);
  const uid = process.getuid?.();
  if (!s.isDirectory()) {
    throw new InfraSandboxError(
      `${dir} is not a folder (a symbolic link or a file); refusing to use it.`,
      ExitCode.usage,
    );
  }
  if (uid !== undefined && s.uid !== uid) {
    throw new InfraSandboxError(
      `${dir} belongs to another user (uid ${s.uid}); refusing to use it. Remove it, or set ${RUNTIME_DIR_ENV}.`,
      ExitCode.usage,
    );
  }
  if ((s.mode & 0o022) !== 0) {
    throw new InfraSandboxError(
      `${dir} is writable by group or others (mode ${(s.mode & 0o777).toString(8)}); refusing to use it. Run \`chmod 700 ${dir}\` or remove it.`,
      ExitCode.usage,
    );
  }
  if ((s.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/** The running companion's file, or undefined when there is none (or it is unreadable or malformed). */
export function readCompanionInfo(dir = runtimeDir()): CompanionInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dir, INFO_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  return isCompanionInfo(value) ? value : undefined;
}

function isCompanionInfo(v: unknown): v is CompanionInfo {
  if (!v || typeof v !== 'object') return false;
  const i = v as Record<string, unknown>;
  return (
    Number.isInteger(i.port) &&
    (i.port as number) > 0 &&
    (i.port as number) < 65536 &&
    Number.isInteger(i.pid) &&
    (i.pid as number) > 0 &&
    typeof i.token === 'string' &&
    /^[0-9a-f]{64}$/.test(i.token) &&
    typeof i.version === 'string' &&
    typeof i.startedAt === 'string'
  );
}

/** Writes companion.json and companion.env (0600, each through a temporary file and a rename). */
export function writeCompanionInfo(info: CompanionInfo, dir = runtimeDir()): string {
  ensurePrivateDir(dir);
  writePrivate(join(dir, ENV_FILE), `port=${info.port}\ntoken=${info.token}\n`);
  const file = join(dir, INFO_FILE);
  writePrivate(file, `${JSON.stringify(info, null, 2)}\n`);
  return file;
}

function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes the runtime files if they still describe companion `pid` (a newer companion's are left alone). */
export function removeCompanionInfo(pid: number, dir = runtimeDir()): boolean {
  const info = readCompanionInfo(dir);
  if (!info || info.pid !== pid) return false;
  rmSync(join(dir, ENV_FILE), { force: true });
  rmSync(join(dir, INFO_FILE), { force: true });
  return true;
}

/** Whether a process with this pid exists (one of another user counts; a zombie does not). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux: an exited process its parent has not reaped yet (state Z in /proc/PID/stat). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export const LOCK_FILE = 'companion.lock';

/**
 * Held while one `serve` starts, so two windows starting the companion at once do not both run
 * one. Returns a release function, or the pid of the live process that holds it; a lock left by
 * a dead process is taken over.
 */
export function acquireStartLock(dir = runtimeDir()): { release(): void } | { heldBy: number } {
  ensurePrivateDir(dir);
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
      return {
        release: () => {
          try {
            if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released meanwhile
    }
    if (holder !== process.pid && isAlive(holder)) return { heldBy: holder };
    rmSync(file, { force: true });
  }
  return { heldBy: 0 };
}
