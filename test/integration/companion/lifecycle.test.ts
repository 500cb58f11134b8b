// The companion as a process (SPEC §6, §10; issue #4): `infra-sandbox serve` as users and the
// extension run it, and a companion killed with SIGKILL in the middle of an operation — the next
// one reports the operation interrupted, to clients and in the ledger. Real processes, temporary
// runtime and state folders, 127.0.0.1 only.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectCompanion } from '../../../src/companion/client';
import { isAlive, readCompanionInfo } from '../../../src/companion/runtime';
import { readLedger } from '../../../src/core/ledger/ledger';
import {
  Hello,
  ListOperations,
  OperationChanged,
  StartOperation,
  type OperationInfo,
} from '../../../src/protocol/companion';
import { testCompanion, waitFor } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

const repo = resolve(__dirname, '../../..');
const cli = join(repo, 'dist', 'cli.js');
const child = join(repo, 'test', 'helpers', 'companion-child.ts');
const started: ChildProcess[] = [];

before(() => assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first'));
after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function dirs() {
  return { INFRA_SANDBOX_RUNTIME_DIR: tempDir('companion-run'), INFRA_SANDBOX_STATE_DIR: tempDir('companion-state') };
}

/** Starts a process and resolves with it once a stdout line matches `ready`. */
function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ proc: ChildProcess; line: string; output: () => string }> {
  const proc = spawn(process.execPath, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 15 s:\n${out}\n${err}`)), 15_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.split('\n').find((l) => ready.test(l));
      if (m) {
        clearTimeout(timer);
        resolvePromise({ proc, line: m, output: () => out + err });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before it was ready:\n${out}\n${err}`));
    });
  });
}

/** `node dist/cli.js ARGS` to completion, without blocking the event loop (children get reaped). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const p = spawn(process.execPath, [cli, ...args], { cwd: repo, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
}

describe('companion lifecycle', () => {
  it('SIGKILL in the middle of an operation: the next companion reports it interrupted, in the ledger and to clients', async () => {
    const env = dirs();
    const configFile = join(tempDir('companion-kill'), 'infra-sandbox.yaml');
    writeFileSync(configFile, 'version: 1\n');
    const first = await startProcess(['--import', 'tsx', child], env, /^ready \d+/);
    const client = await connectCompanion({ runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR, timeoutMs: 2000 });
    assert.ok(client, 'connected to the child companion');
    const changes: OperationInfo[] = [];
    client.onNotification(OperationChanged, (op) => {
      changes.push(op);
    });
    const closed = new Promise<void>((r) => client.onClose(() => r()));
    const op = await client.sendRequest(StartOperation, { kind: 'test.long', key: 'lab', configFile, origin: 'test' });
    await waitFor(() => changes.some((c) => c.id === op.id && c.message === 'working'), 5000, 'the operation to run');

    first.proc.kill('SIGKILL');
    assert.equal((await exited(first.proc)).signal, 'SIGKILL');
    await closed; // the connected client sees its socket close (reconnecting is the client's job)
    // The dead companion's file is still there: stale, its pid is gone.
    const stale = readCompanionInfo(env.INFRA_SANDBOX_RUNTIME_DIR);
    assert.ok(stale);
    assert.equal(stale.pid, first.proc.pid);
    assert.equal(isAlive(stale.pid), false);

    const next = await testCompanion({
      runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR,
      stateDir: env.INFRA_SANDBOX_STATE_DIR,
    });
    try {
      assert.equal(readCompanionInfo(env.INFRA_SANDBOX_RUNTIME_DIR)?.pid, process.pid, 'the stale file was replaced');
      const again = await connectCompanion({ runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR, timeoutMs: 2000 });
      assert.ok(again);
      const listed = await again.sendRequest(ListOperations, {});
      const found = listed.find((o) => o.id === op.id);
      assert.equal(found?.state, 'interrupted');
      assert.match(found.error ?? '', new RegExp(`pid ${first.proc.pid}`));
      assert.equal(found.kind, 'test.long');
      assert.equal(found.configFile, configFile);
      const { entries } = await readLedger(configFile);
      const entry = entries.find((e) => e.operationId === op.id);
      assert.equal(entry?.result, 'interrupted');
      assert.equal(entry.subject, 'test.long');
      assert.equal(entry.key, 'lab');
      await again.close();
    } finally {
      await next.close();
    }
  });

  it('SIGTERM: running operations are cancelled and recorded, the runtime file is removed, exit 0', async () => {
    const env = dirs();
    const configFile = join(tempDir('companion-term'), 'infra-sandbox.yaml');
    const proc = await startProcess(['--import', 'tsx', child], env, /^ready \d+/);
    const client = await connectCompanion({ runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR, timeoutMs: 2000 });
    assert.ok(client);
    const changes: OperationInfo[] = [];
    client.onNotification(OperationChanged, (op) => {
      changes.push(op);
    });
    const op = await client.sendRequest(StartOperation, { kind: 'test.long', key: 'lab', configFile });
    await waitFor(() => changes.some((c) => c.id === op.id && c.state === 'running'), 5000);
    proc.proc.kill('SIGTERM');
    assert.equal((await exited(proc.proc)).code, 0);
    assert.ok(
      changes.some((c) => c.id === op.id && c.state === 'cancelled'),
      'the client saw the cancellation',
    );
    assert.equal(existsSync(join(env.INFRA_SANDBOX_RUNTIME_DIR, 'companion.json')), false);
    assert.equal(existsSync(join(env.INFRA_SANDBOX_RUNTIME_DIR, 'companion.env')), false);
    const { entries } = await readLedger(configFile);
    assert.equal(entries.find((e) => e.operationId === op.id)?.result, 'cancelled');
  });

  it('serve: a second serve finds the first and exits 0; --status, ops, --stop', async () => {
    const env = dirs();
    const first = await startProcess([cli, 'serve', '--idle-timeout', '0'], env, /listening/);
    assert.match(
      first.line,
      new RegExp(
        `^infra-sandbox companion listening on 127\\.0\\.0\\.1:\\d+ \\(pid ${first.proc.pid}\\); runtime file .*companion\\.json$`,
      ),
    );
    const info = readCompanionInfo(env.INFRA_SANDBOX_RUNTIME_DIR);
    assert.ok(info);
    assert.equal(info.pid, first.proc.pid);

    const second = spawnSync(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, `infra-sandbox: a companion is already running (pid ${info.pid}, port ${info.port})\n`);
    assert.equal(readCompanionInfo(env.INFRA_SANDBOX_RUNTIME_DIR)?.pid, first.proc.pid, 'the file is untouched');

    const status = await runCli(['serve', '--status'], env);
    assert.equal(status.code, 0);
    assert.match(status.stdout, new RegExp(`pid ${info.pid}, 127\\.0\\.0\\.1:${info.port}`));
    const ops = await runCli(['ops'], env);
    assert.equal(ops.code, 0);
    assert.match(ops.stdout, /^no operations \(companion pid \d+/);
    const opsJson = await runCli(['--json', 'ops'], env);
    assert.deepEqual(JSON.parse(opsJson.stdout).operations, []);

    const stop = await runCli(['serve', '--stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped the companion \\(pid ${info.pid}`));
    assert.equal((await exited(first.proc)).code, 0);
    assert.equal(existsSync(join(env.INFRA_SANDBOX_RUNTIME_DIR, 'companion.json')), false);

    const none = await runCli(['ops'], env);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no companion is running/);
    const stopAgain = await runCli(['serve', '--stop'], env);
    assert.equal(stopAgain.code, 0);
    assert.match(stopAgain.stdout, /no companion is running/);
  });

  it('serve replaces a stale runtime file whose pid is dead', async () => {
    const env = dirs();
    const dead = spawnSync(process.execPath, ['-e', ''], { encoding: 'utf8' }).pid as number;
    assert.equal(isAlive(dead), false);
    writeFileSync(
      join(env.INFRA_SANDBOX_RUNTIME_DIR, 'companion.json'),
      JSON.stringify({
        port: 9,
        pid: dead,
        token: 'f'.repeat(64),
        version: '0.0.0',
        startedAt: new Date(0).toISOString(),
      }),
      { mode: 0o600 },
    );
    const serve = await startProcess([cli, 'serve', '--idle-timeout', '0'], env, /listening/);
    const info = readCompanionInfo(env.INFRA_SANDBOX_RUNTIME_DIR);
    assert.ok(info);
    assert.equal(info.pid, serve.proc.pid);
    assert.notEqual(info.token, 'f'.repeat(64));
    const c = await connectCompanion({ runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR });
    assert.equal((await c?.sendRequest(Hello))?.pid, serve.proc.pid);
    await c?.close();
    serve.proc.kill('SIGTERM');
    assert.equal((await exited(serve.proc)).code, 0);
  });

  it('exits by itself after the idle time with no client and no operation, and removes its file', async () => {
    const env = dirs();
    const serve = await startProcess([cli, 'serve', '--idle-timeout', '300ms'], env, /listening/);
    const c = await connectCompanion({ runtimeDir: env.INFRA_SANDBOX_RUNTIME_DIR });
    assert.ok(c);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(serve.proc.exitCode, null, 'a connected client keeps it up');
    await c.close();
    const end = await exited(serve.proc);
    assert.equal(end.code, 0);
    assert.equal(existsSync(join(env.INFRA_SANDBOX_RUNTIME_DIR, 'companion.json')), false);
    assert.match(serve.output(), /no client and no operation for 300 ms: exiting/);
  });

  it('bad serve options exit 2', () => {
    const env = dirs();
    for (const args of [
      ['serve', '--idle-timeout', 'soon'],
      ['serve', '--port', '70000'],
      ['serve', '--stop', '--status'],
    ]) {
      const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^infra-sandbox: /);
    }
  });
});
