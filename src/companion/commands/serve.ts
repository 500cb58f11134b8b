import { type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraSandboxError } from '../../core/exec';
import { ExitCode } from '../../core/exitCodes';
import type { Logger } from '../../core/log';
import type { CompanionInfo } from '../../protocol/companionWire';
import { printJson, type GlobalOptions } from '../context';
import {
  acquireStartLock,
  ensurePrivateDir,
  INFO_FILE,
  isAlive,
  readCompanionInfo,
  removeCompanionInfo,
  runtimeDir,
} from '../runtime';

// The server, the WebSocket and JSON-RPC libraries load only when this command runs: every other
// command (guard exec above all) starts faster without them.
const client = () => import('../client');
const protocol = () => import('../../protocol/companion');

interface ServeOptions {
  port?: string;
  idleTimeout: string;
  stop?: boolean;
  status?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Start the sandbox companion in the foreground (127.0.0.1 only; one per user).')
    .option('--port <n>', 'port to listen on (default: a random free one)')
    .option(
      '--idle-timeout <time>',
      'exit after this long with no client and no operation: 10m, 90s, 1h, or 0 for never',
      '10m',
    )
    .option('--stop', 'stop the running companion (its operations are cancelled and recorded)')
    .option('--status', 'show the running companion')
    .addHelpText(
      'after',
      `\nThe companion writes ${INFO_FILE} (port, pid, token; mode 0600) into ${runtimeDir()}; clients read it to connect.\nA second \`serve\` finds the running one and exits 0.`,
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & ServeOptions>();
      if (opts.stop && opts.status)
        throw new InfraSandboxError('--stop and --status do not go together', ExitCode.usage);
      if (opts.stop) return stop(g.json === true);
      if (opts.status) return status(g.json === true);
      const port = opts.port === undefined ? 0 : parsePort(opts.port);
      process.exitCode = await serve(port, parseDuration(opts.idleTimeout), g.json === true);
    });
}

/** The companion of companion.json if its pid lives and its port answers /healthz. */
async function running(dir: string): Promise<CompanionInfo | undefined> {
  const info = readCompanionInfo(dir);
  if (!info || !isAlive(info.pid)) return undefined;
  const { healthy } = await client();
  return (await healthy(info.port, 1000)) ? info : undefined;
}

async function serve(port: number, idleTimeoutMs: number, json: boolean): Promise<number> {
  const dir = ensurePrivateDir(runtimeDir());
  const already = (info: CompanionInfo) => {
    if (json) printJson({ running: true, started: false, pid: info.pid, port: info.port, version: info.version });
    else process.stdout.write(`infra-sandbox: a companion is already running (pid ${info.pid}, port ${info.port})\n`);
    return ExitCode.ok;
  };
  const existing = await running(dir);
  if (existing) return already(existing);

  let lock = acquireStartLock(dir);
  if ('heldBy' in lock) {
    // Another `serve` is starting right now: wait for it and report it.
    for (let waited = 0; waited < 5000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      const info = await running(dir);
      if (info) return already(info);
      lock = acquireStartLock(dir);
      if (!('heldBy' in lock)) break;
    }
    if ('heldBy' in lock) {
      throw new InfraSandboxError(
        `another companion (pid ${lock.heldBy}) is starting and did not answer within 5 s; try again, or remove ${join(dir, 'companion.lock')} if that process is gone.`,
        ExitCode.usage,
      );
    }
  }
  let companion;
  try {
    const again = await running(dir);
    if (again) return already(again);
    const { startCompanion } = await import('../server');
    companion = await startCompanion({
      port,
      idleTimeoutMs,
      runtimeDir: dir,
      handleSignals: true,
      logger: stderrLogger,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        throw new InfraSandboxError(
          `port ${port} on 127.0.0.1 is in use; pick another --port or leave it out.`,
          ExitCode.usage,
        );
      }
      throw err;
    });
  } finally {
    lock.release();
  }
  const file = join(companion.runtimeDir, INFO_FILE);
  if (json) {
    printJson({ running: true, started: true, pid: process.pid, port: companion.port, runtimeFile: file });
  } else {
    process.stdout.write(
      `infra-sandbox companion listening on 127.0.0.1:${companion.port} (pid ${process.pid}); runtime file ${file}\n`,
    );
  }
  await companion.done;
  // Whatever still holds the event loop (a resolver socket, a finished tool's pipe) must not keep us up.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return ExitCode.ok;
}

async function stop(json: boolean): Promise<void> {
  const dir = runtimeDir();
  const info = readCompanionInfo(dir);
  if (!info || !isAlive(info.pid)) {
    if (info) removeCompanionInfo(info.pid, dir); // stale: its process is gone
    if (json) printJson({ running: false, stopped: false });
    else process.stdout.write('infra-sandbox: no companion is running\n');
    return;
  }
  const { connectCompanion, healthy } = await client();
  const { Shutdown } = await protocol();
  const connection = await connectCompanion({ info, timeoutMs: 2000 });
  let how = 'Shutdown request';
  if (connection) {
    await connection.sendRequest(Shutdown).catch(() => {});
    await connection.close();
  } else if ((await healthy(info.port, 1000)) || looksLikeCompanion(info.pid)) {
    how = 'SIGTERM';
    process.kill(info.pid, 'SIGTERM');
  } else {
    throw new InfraSandboxError(
      `${join(dir, INFO_FILE)} names pid ${info.pid}, which is alive but does not answer on port ${info.port} and does not look like a companion; not stopping it.`,
      ExitCode.usage,
    );
  }
  for (let waited = 0; isAlive(info.pid); waited += 50) {
    if (waited >= 15_000) {
      throw new InfraSandboxError(
        `the companion (pid ${info.pid}) did not exit within 15 s of a ${how}`,
        ExitCode.usage,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (json) printJson({ running: false, stopped: true, pid: info.pid });
  else process.stdout.write(`infra-sandbox: stopped the companion (pid ${info.pid}, port ${info.port})\n`);
}

/** Linux: the process's command line mentions `serve` (a pid reused by an unrelated program does not). */
function looksLikeCompanion(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serve');
  } catch {
    return false;
  }
}

async function status(json: boolean): Promise<void> {
  const { connectCompanion } = await client();
  const { Hello } = await protocol();
  const connection = await connectCompanion({ timeoutMs: 2000 });
  if (!connection) {
    if (json) printJson({ running: false });
    else process.stdout.write('infra-sandbox: no companion is running\n');
    return;
  }
  try {
    const hello = await connection.sendRequest(Hello);
    if (json) printJson({ running: true, port: connection.info.port, ...hello });
    else {
      process.stdout.write(
        `infra-sandbox companion ${hello.version}: pid ${hello.pid}, 127.0.0.1:${connection.info.port}, since ${hello.startedAt}; ${hello.clients} ${hello.clients === 1 ? 'client' : 'clients'}, ${hello.operations} active ${hello.operations === 1 ? 'operation' : 'operations'}\n`,
      );
    }
  } finally {
    await connection.close();
  }
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535)
    throw new InfraSandboxError(`--port must be 0..65535 (got ${text})`, ExitCode.usage);
  return n;
}

/** `10m`, `90s`, `1h`, `500ms`, `0`; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InfraSandboxError(`--idle-timeout must look like 10m, 90s, 1h or 0 (got ${text})`, ExitCode.usage);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const stderrLogger: Logger = {
  trace() {},
  debug() {},
  info: (m) => process.stderr.write(`infra-sandbox: ${m}\n`),
  warn: (m) => process.stderr.write(`infra-sandbox: warning: ${m}\n`),
  error: (m) => process.stderr.write(`infra-sandbox: error: ${m}\n`),
};
