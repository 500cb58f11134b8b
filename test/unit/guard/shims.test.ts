import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { shimScript } from '../../../src/core/guard/shims';
import { tempDir } from '../../helpers/tmp';

describe('terminal shim scripts', () => {
  it('hand "$@" untouched to guard exec, with the inventory parser of the setting', () => {
    const text = shimScript('ansible-playbook', {
      executable: '/opt/VS Code/code',
      cli: "/home/o'brien/.vscode/ext/dist/cli.js",
      electron: true,
      inventoryParser: 'builtin',
    });
    assert.equal(
      text.split('\n')[3],
      `ELECTRON_RUN_AS_NODE=1 exec '/opt/VS Code/code' '/home/o'\\''brien/.vscode/ext/dist/cli.js' guard --inventory-parser builtin exec -- ansible-playbook "$@"`,
    );
    assert.match(
      shimScript('ssh', { executable: 'node', cli: 'cli.js', electron: false }),
      /cli\.js' guard exec -- ssh "\$@"\n$/,
    );
  });

  it('refuses a command name that is not a plain file name', () => {
    for (const bad of ['../ssh', 'a b', 'x;rm', '$(id)', '-rf', '']) {
      assert.throws(
        () => shimScript(bad, { executable: 'node', cli: 'cli.js', electron: false }),
        /not a command name/,
      );
    }
  });

  it('passes every argument through a real /bin/sh byte for byte', () => {
    const dir = tempDir('shim');
    // A stand-in runtime that prints its argv as JSON: what the shim hands to the CLI.
    const runtime = join(dir, 'runtime');
    writeFileSync(runtime, `#!${process.execPath}\nprocess.stdout.write(JSON.stringify(process.argv.slice(2)));\n`);
    chmodSync(runtime, 0o755);
    mkdirSync(join(dir, 'shims'));
    const shim = join(dir, 'shims', 'psql');
    writeFileSync(shim, shimScript('psql', { executable: runtime, cli: 'cli.js', electron: false }), { mode: 0o755 });
    const args = ['-h', 'db', '', 'two words', "it's", '$HOME', '`id`', '--', 'ünï', 'a\nb', '*'];
    const out = JSON.parse(execFileSync(shim, args, { encoding: 'utf8' })) as string[];
    assert.deepEqual(out, ['cli.js', 'guard', 'exec', '--', 'psql', ...args]);
  });
});
