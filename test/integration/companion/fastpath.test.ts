// The guard's fast path through a warm companion: the bash terminal shims (POST /guard/decide over
// bash's /dev/tcp) and the CLI's `guard exec`. A real companion on loopback, real bash, and fake
// tools that record what they received. The shims' slow path is a stand-in that leaves a mark, so
// each test knows which path decided. Production addresses are data only: nothing connects to them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { Companion } from '../../../src/companion/server';
import { ENV_FILE } from '../../../src/companion/runtime';
import { writeShims } from '../../../src/core/guard/shims';
import { GUARD_CONFIG } from '../../helpers/dnsmasq';
import { testCompanion } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const BASH = '/bin/bash';

describe('guard fast path through a warm companion', { skip: !existsSync(BASH) && 'no /bin/bash' }, () => {
  let companion: Companion;
  let work: string;
  let shims: string;
  let bin: string;
  let slowMark: string;
  let env: Record<string, string>;

  before(async () => {
    companion = await testCompanion();
    work = tempDir('fastpath');
    writeFileSync(join(work, 'infra-sandbox.yaml'), stringify({ version: 1, ...GUARD_CONFIG }));
    shims = join(work, 'shims');
    bin = join(work, 'bin');
    mkdirSync(bin);
    slowMark = join(work, 'slow-path-used');
    // The slow path (`guard exec` in a new Node process) is replaced by a stand-in that leaves a mark.
    const slow = join(work, 'slow-runtime');
    writeFileSync(slow, `#!/bin/sh\necho "$@" >> '${slowMark}'\nexit 99\n`, { mode: 0o755 });
    for (const tool of ['psql']) {
      writeFileSync(
        join(bin, tool),
        `#!${process.execPath}\nconst fs = require('fs');\nfs.appendFileSync(${JSON.stringify(join(work, `${tool}.log`))}, JSON.stringify({ args: process.argv.slice(2), stdin: fs.readFileSync(0, 'utf8') }) + '\\n');\nprocess.stdout.write('${tool} ran\\n');\nprocess.exit(7);\n`,
        { mode: 0o755 },
      );
    }
    // The shims name the companion's companion.env; a second set names one that is not there.
    const write = (dir: string, companionEnv: string) =>
      writeShims(dir, ['psql'], {
        executable: slow,
        cli: CLI,
        electron: false,
        inventoryParser: 'builtin',
        fastPath: { bash: BASH, companionEnv },
      });
    await write(shims, join(companion.runtimeDir, ENV_FILE));
    await write(join(work, 'shims-no-companion'), join(tempDir('no-companion'), ENV_FILE));
    const stale = tempDir('stale-companion');
    writeFileSync(join(stale, ENV_FILE), `port=${companion.port}\ntoken=${'0'.repeat(64)}\n`);
    await write(join(work, 'shims-stale'), join(stale, ENV_FILE));
    env = {
      PATH: `${shims}:${bin}:/usr/bin:/bin`,
      HOME: work,
      INFRA_SANDBOX_SHIM_DIR: shims,
      INFRA_SANDBOX_CONFIG: join(work, 'infra-sandbox.yaml'),
      INFRA_SANDBOX_RUNTIME_DIR: companion.runtimeDir,
    };
  });
  after(async () => {
    await companion.close();
  });

  // Asynchronous: the companion runs in this process and must keep answering while they run.
  const run = (file: string, args: string[], opts: { env: Record<string, string>; input?: string }) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(file, args, { cwd: work, env: opts.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (status) => done({ status, stdout, stderr }));
      child.stdin.end(opts.input ?? '');
    });
  const runShim = (tool: string, args: string[], input = '', dir = shims) =>
    run(join(dir, tool), args, { env: { ...env, INFRA_SANDBOX_SHIM_DIR: dir }, input });
  const calls = (tool: string) =>
    existsSync(join(work, `${tool}.log`))
      ? readFileSync(join(work, `${tool}.log`), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { args: string[]; stdin: string })
      : [];
  const reset = () => {
    for (const f of ['psql.log', 'slow-path-used']) rmSync(join(work, f), { force: true });
  };

  it('allowed: the real tool gets argv, stdin and its own exit code, decided by the companion', async () => {
    reset();
    const before = companion.stats().httpDecisions;
    const args = [
      '-h',
      '127.0.0.1',
      '',
      'two words',
      "it's",
      '$HOME',
      '`id`',
      '--',
      'ünïcode',
      'tab\there',
      'a\nb',
      '\\',
    ];
    const r = await runShim('psql', args, 'select 1;\n');
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stdout, 'psql ran\n');
    assert.equal(r.stderr, '');
    assert.deepEqual(calls('psql'), [{ args, stdin: 'select 1;\n' }]);
    assert.equal(existsSync(slowMark), false, 'the slow path was not used');
    assert.equal(companion.stats().httpDecisions, before + 1, 'the companion decided');
  });

  it('blocked: exit 3 with the chain on stderr, the tool never starts', async () => {
    reset();
    const r = await runShim('psql', ['-h', '192.168.1.10', '-c', 'drop table x']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^infra-sandbox: blocked psql -h 192\.168\.1\.10 -c 'drop table x'\n/);
    assert.match(r.stderr, /192\.168\.1\.10 ∈ 192\.168\.1\.0\/24 production/);
    assert.deepEqual(calls('psql'), []);
    assert.equal(existsSync(slowMark), false);
  });

  it('an argument the shim cannot put in JSON, or no companion, takes the slow path', async () => {
    reset();
    const r = await runShim('psql', ['-h', '127.0.0.1', 'bell\u0007']);
    assert.equal(r.status, 99, 'the stand-in slow path answered');
    assert.match(readFileSync(slowMark, 'utf8'), /guard --inventory-parser builtin exec -- psql -h 127\.0\.0\.1/);
    reset();
    const none = await runShim('psql', ['-h', '127.0.0.1'], '', join(work, 'shims-no-companion'));
    assert.equal(none.status, 99);
    assert.ok(existsSync(slowMark));
    assert.deepEqual(calls('psql'), []);
  });

  it('a wrong token (a stale companion.env) takes the slow path, never runs the tool unguarded', async () => {
    reset();
    const refusedBefore = companion.stats().refusedHttp;
    const r = await runShim('psql', ['-h', '127.0.0.1'], '', join(work, 'shims-stale'));
    assert.equal(r.status, 99);
    assert.deepEqual(calls('psql'), []);
    assert.equal(companion.stats().refusedHttp, refusedBefore + 1, 'the companion refused the wrong token');
  });

  it('the CLI guard exec asks the companion too, and decides alone with INFRA_SANDBOX_NO_COMPANION=1', async () => {
    reset();
    const cli = (extra: Record<string, string>, args: string[]) =>
      run(process.execPath, [CLI, 'guard', 'exec', '--', ...args], {
        env: { ...env, PATH: `${bin}:/usr/bin:/bin`, ...extra },
      });
    const before = companion.stats().httpDecisions;
    const allowed = await cli({}, ['psql', '-h', '127.0.0.1']);
    assert.equal(allowed.status, 7, allowed.stderr);
    const blocked = await cli({}, ['psql', 'postgresql://app@192.168.1.201/app']);
    assert.equal(blocked.status, 3);
    assert.match(blocked.stderr, /192\.168\.1\.201 ∈ 192\.168\.1\.0\/24 production/);
    assert.equal(companion.stats().httpDecisions, before + 2);
    const alone = await cli({ INFRA_SANDBOX_NO_COMPANION: '1' }, ['psql', 'postgresql://app@192.168.1.201/app']);
    assert.equal(alone.status, 3);
    assert.equal(alone.stderr, blocked.stderr, 'the same message either way');
    assert.equal(companion.stats().httpDecisions, before + 2);
    assert.equal(calls('psql').length, 1, 'only the allowed psql ran');
  });
});
