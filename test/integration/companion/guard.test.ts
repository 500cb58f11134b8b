// The guard through the companion (issue #4): `guard/decide` over JSON-RPC and `POST /guard/decide`
// (the shims' fast path) give the same exit code and the same text as `guard exec` for the same
// command, cwd and environment, and record the verdict like it. Production addresses are data
// only: literals in 192.0.2.0/24 (TEST-NET-1), never contacted; the fake tools never run here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResponseError } from 'vscode-jsonrpc/node';
import type { CompanionConnection } from '../../../src/companion/client';
import type { Companion } from '../../../src/companion/server';
import { writeShims } from '../../../src/core/guard/shims';
import { verdictLogPath, type VerdictRecord } from '../../../src/core/guard/verdictLog';
import {
  ErrorCodes,
  GuardCheck,
  GuardDecide,
  TOKEN_HEADER,
  type GuardDecideParams,
  type GuardDecideResult,
} from '../../../src/protocol/companion';
import { rpcClient, testCompanion } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

const repo = resolve(__dirname, '../../..');
const cli = join(repo, 'dist', 'cli.js');

const ws = tempDir('companion-guard');
const bin = join(ws, 'bin');
const shims = join(ws, 'shims');
const configFile = join(ws, 'infra-sandbox.yaml');
const env = { PATH: `${shims}:${bin}:/usr/bin:/bin`, HOME: join(ws, 'home'), INFRA_SANDBOX_SHIM_DIR: shims };

let companion: Companion;
let client: CompanionConnection;

before(async () => {
  assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first');
  for (const d of [bin, env.HOME]) mkdirSync(d, { recursive: true });
  writeFileSync(
    configFile,
    'version: 1\nproduction:\n  networks: [192.0.2.0/24]\nsandbox:\n  networks: [127.0.0.0/8]\nguard:\n  onUnresolved: block\n',
  );
  const fake = join(bin, 'psql');
  writeFileSync(fake, '#!/bin/sh\necho "fake psql must not run here" >&2\nexit 99\n');
  chmodSync(fake, 0o755);
  await writeShims(shims, ['psql'], { executable: process.execPath, cli, electron: false });
  companion = await testCompanion();
  client = await rpcClient(companion);
});
after(async () => {
  await client?.close();
  await companion?.close();
});

/** What `guard exec` prints before it would run the command (its stderr and exit code). */
function guardExecFor(argv: string[], environment: NodeJS.ProcessEnv = env): { code: number | null; stderr: string } {
  // The allowed case would run the fake (exit 99): compare only what the guard itself says.
  const r = spawnSync(process.execPath, [cli, 'guard', 'exec', '--', ...argv], {
    cwd: ws,
    env: environment,
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr };
}

function decideOverHttp(
  params: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const body = typeof params === 'string' ? params : JSON.stringify(params);
    const req = request(
      {
        host: '127.0.0.1',
        port: companion.port,
        method: 'POST',
        path: '/guard/decide',
        headers: { [TOKEN_HEADER]: companion.token, 'Content-Type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const params = (argv: string[]): GuardDecideParams => ({ argv, cwd: ws, env });

describe('the guard through the companion', () => {
  it('a production target: exit 3 and the text guard exec prints; the verdict is recorded', async () => {
    const argv = ['psql', '-h', '192.0.2.10', '-U', 'app', 'orders'];
    const direct = guardExecFor(argv);
    assert.equal(direct.code, 3);
    const before = readFileSync(verdictLogPath(configFile), 'utf8').split('\n').filter(Boolean).length;
    const viaRpc = await client.sendRequest(GuardDecide, params(argv));
    assert.equal(viaRpc.exitCode, 3);
    assert.equal(viaRpc.message, direct.stderr);
    assert.equal(viaRpc.verdict.verdict, 'block');
    assert.equal(viaRpc.executable, undefined);
    const records = readFileSync(verdictLogPath(configFile), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VerdictRecord);
    assert.equal(records.length, before + 1);
    assert.deepEqual(records.at(-1)?.command, argv);
    assert.equal(records.at(-1)?.verdict, 'block');

    const viaHttp = await decideOverHttp(params(argv));
    assert.equal(viaHttp.status, 200);
    const decided = JSON.parse(viaHttp.body) as GuardDecideResult;
    assert.equal(decided.exitCode, 3);
    assert.equal(decided.message, direct.stderr);
  });

  it('an allowed target: exit 0, no text, and the real executable (the shim folder skipped)', async () => {
    const argv = ['psql', '-h', '127.0.0.1', 'orders'];
    const direct = guardExecFor(argv);
    assert.equal(direct.code, 99, 'guard exec allowed it and ran the fake');
    assert.equal(direct.stderr, 'fake psql must not run here\n');
    const decided = await client.sendRequest(GuardDecide, params(argv));
    assert.equal(decided.exitCode, 0);
    assert.equal(decided.message, '');
    assert.equal(decided.executable, join(bin, 'psql'));
    const text = await decideOverHttp(params(argv), { Accept: 'text/plain' });
    assert.equal(text.status, 200);
    assert.equal(text.body, `exit=0\nexecutable=${join(bin, 'psql')}\n\n`);
  });

  it('allowed but not installed: no executable, and the message guard exec exits 4 with', async () => {
    // PATH without the system folders: no real pg_dump may be found (or run).
    const bare = { ...env, PATH: `${shims}:${bin}` };
    const argv = ['pg_dump', '-h', '127.0.0.1', 'orders'];
    const direct = guardExecFor(argv, bare);
    assert.equal(direct.code, 4);
    const decided = await client.sendRequest(GuardDecide, { argv, cwd: ws, env: bare });
    assert.equal(decided.exitCode, 0);
    assert.equal(decided.executable, undefined);
    assert.equal(decided.missing, direct.stderr);
  });

  it('a broken config fails closed with exit 2 and guard exec’s message', async () => {
    const broken = join(tempDir('companion-guard-broken'), 'infra-sandbox.yaml');
    writeFileSync(broken, 'version: 1\nproduction: [unclosed\n');
    const argv = ['psql', '-h', '127.0.0.1'];
    const direct = spawnSync(process.execPath, [cli, '--config', broken, 'guard', 'exec', '--', ...argv], {
      cwd: ws,
      env,
      encoding: 'utf8',
    });
    assert.equal(direct.status, 2);
    const decided = await client.sendRequest(GuardDecide, { ...params(argv), configFile: broken });
    assert.equal(decided.exitCode, 2);
    assert.equal(decided.message, direct.stderr);
  });

  it('guard/check decides named targets; without a target it is BadInput', async () => {
    const checked = await client.sendRequest(GuardCheck, { cwd: ws, hosts: ['192.0.2.7', '127.0.0.1'] });
    assert.equal(checked.verdict.verdict, 'block');
    assert.deepEqual(
      checked.verdict.targets.map((t) => [t.name, t.production]),
      [
        ['192.0.2.7', true],
        ['127.0.0.1', false],
      ],
    );
    const err = await client.sendRequest(GuardCheck, { cwd: ws }).then(
      () => assert.fail('expected BadInput'),
      (e: ResponseError<unknown>) => e,
    );
    assert.equal(err.code, ErrorCodes.BadInput);
  });

  it('POST /guard/decide: 400 for bad JSON or params, 413 for a body over the limit', async () => {
    assert.equal((await decideOverHttp('{"argv":')).status, 400);
    const bad = await decideOverHttp({ argv: [], cwd: ws, env });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /argv must not be empty/);
    assert.equal((await decideOverHttp({ argv: ['ls'], cwd: 'relative', env })).status, 400);
    const huge = await decideOverHttp({ argv: ['ls'], cwd: ws, env: { X: 'x'.repeat(1024 * 1024 + 1) } }).catch(
      (err: NodeJS.ErrnoException) => ({
        status: err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 413 : 0,
        body: '',
      }),
    );
    assert.equal(huge.status, 413);
  });
});
