import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { describe, it } from 'node:test';
import { CancelledError, ProcessError, run, ToolMissingError, which } from '../../src/core/exec';

const node = process.execPath;
const env = { ...process.env, PATH: `${dirname(node)}:/usr/bin:/bin` };

/** Running, not a zombie: an orphan killed here may wait to be reaped by an init that never does. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('process runner (real processes)', () => {
  it('passes arguments as an array: shell syntax stays literal', async () => {
    const dir = tempDir('run');
    const marker = join(dir, 'pwned');
    const args = ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', `$(touch ${marker})`, '; rm -rf /', '*'];
    const out = await run({ command: 'node', args, parse: (o) => JSON.parse(o.stdout) as string[] }, { env, cwd: dir });
    assert.deepEqual(out, [`$(touch ${marker})`, '; rm -rf /', '*']);
    assert.equal(existsSync(marker), false);
  });

  it('streams output lines and hands stdin to the process', async () => {
    const lines: string[] = [];
    await run(
      { command: 'node', args: ['-e', 'process.stdin.pipe(process.stdout)'] },
      { env, input: 'one\ntwo\nthree', onStdoutLine: (l) => lines.push(l) },
    );
    assert.deepEqual(lines, ['one', 'two', 'three']);
  });

  it('a non-zero exit is a ProcessError carrying the exit code and stderr', async () => {
    await assert.rejects(
      run(
        { command: 'node', args: ['-e', 'console.error("image not found: rancher/k3s:v9"); process.exit(3)'] },
        { env },
      ),
      (err: unknown) => err instanceof ProcessError && err.processExitCode === 3 && /image not found/.test(err.message),
    );
  });

  it('accepts exit codes the tool uses for "not an error"', async () => {
    const out = await run({ command: 'node', args: ['-e', 'process.exit(2)'], okExitCodes: [0, 2] }, { env });
    assert.equal(out.exitCode, 2);
  });

  it('a missing tool is a ToolMissingError (exit 4) with an install hint', async () => {
    await assert.rejects(
      run({ command: 'k3d', args: ['version'] }, { env: { PATH: '/nonexistent' } }),
      (err: unknown) => err instanceof ToolMissingError && err.exitCode === 4 && /k3d\.io/.test(err.message),
    );
  });

  it('never runs an executable from the working folder, even with "." on PATH', async () => {
    const dir = tempDir('cwd');
    writeFileSync(join(dir, 'kubectl'), '#!/bin/sh\necho planted\n');
    chmodSync(join(dir, 'kubectl'), 0o755);
    assert.equal(which('kubectl', `.::${'/nonexistent'}`), undefined);
    await assert.rejects(
      run({ command: 'kubectl', args: [] }, { cwd: dir, env: { PATH: '.:' } }),
      (err: unknown) => err instanceof ToolMissingError,
    );
  });

  it('cancellation kills the whole process tree', async () => {
    const dir = tempDir('tree');
    const pidFile = join(dir, 'grandchild.pid');
    // The child starts a grandchild that would outlive a plain kill of the child.
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
      setInterval(() => {}, 1000);`;
    const listeners: (() => void)[] = [];
    const token = {
      isCancellationRequested: false,
      onCancellationRequested: (l: () => void) => {
        listeners.push(l);
        return { dispose() {} };
      },
    };
    const cancel = () => {
      token.isCancellationRequested = true;
      listeners.forEach((l) => l());
    };
    const running = run({ command: 'node', args: ['-e', script] }, { env, token, killGraceMs: 500 });
    while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8')) await new Promise((r) => setTimeout(r, 20));
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(grandchild));
    cancel();
    await assert.rejects(running, (err: unknown) => err instanceof CancelledError && err.exitCode === 130);
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(grandchild), false, 'grandchild survived cancellation');
  });
});
