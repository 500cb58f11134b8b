import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { before, describe, it } from 'node:test';

// The built CLI, run as a user runs it: `node dist/cli.js …` (npm test builds it first).
const repo = resolve(__dirname, '../..');
const cli = join(repo, 'dist', 'cli.js');
const example = join(repo, 'examples', 'homelab', 'infra-sandbox.yaml');

function infraSandbox(args: string[], cwd = repo) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function workspace(configText?: string): string {
  const dir = tempDir('cli');
  if (configText !== undefined) writeFileSync(join(dir, 'infra-sandbox.yaml'), configText);
  return dir;
}

describe('infra-sandbox CLI', () => {
  before(() => assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first'));

  it('prints its version', () => {
    const { code, stdout } = infraSandbox(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);
  });

  it('config check: a valid config exits 0 and says what it holds', () => {
    const { code, stdout } = infraSandbox(['config', 'check', '--config', example]);
    assert.equal(code, 0);
    assert.match(stdout, /valid \(3 sandboxes, 2 gates\)/);
  });

  it('config check: a wrong type prints file:line:col and the key, exit 2', () => {
    const dir = workspace(readFileSync(example, 'utf8').replace('maxSandboxes: 3', 'maxSandboxes: three'));
    const { code, stderr } = infraSandbox(['config', 'check'], dir);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /^infra-sandbox\.yaml:35:25: error limits\.maxSandboxes: must be an integer \(got "three"\)$/m,
    );
    assert.match(stderr, /1 problem in infra-sandbox\.yaml/);
  });

  it('config check --json: one JSON document with every problem', () => {
    const dir = workspace(
      'version: 1\nlimits: { maxSandboxes: -1 }\nsandboxes:\n  lab: { provider: kind, template: x }\n',
    );
    const { code, stdout } = infraSandbox(['--json', 'config', 'check'], dir);
    assert.equal(code, 2);
    const doc = JSON.parse(stdout);
    assert.equal(doc.valid, false);
    assert.deepEqual(
      doc.problems.map((p: { line: number; key: string }) => `${p.line} ${p.key}`),
      ['2 limits.maxSandboxes', '4 sandboxes.lab.provider'],
    );
  });

  it('finds the config upward from a subfolder', () => {
    const { code, stdout } = infraSandbox(['config', 'check'], join(repo, 'examples', 'homelab', 'ansible', 'roles'));
    assert.equal(code, 0, stdout);
  });

  it('without any config: exit 2 and how to create one', () => {
    const { code, stderr } = infraSandbox(['config', 'check'], workspace());
    assert.equal(code, 2);
    assert.match(stderr, /no infra-sandbox\.yaml found in .* Create one with `infra-sandbox init`/);
  });

  it('broken YAML: file:line, no stack trace, exit 2', () => {
    const { code, stderr } = infraSandbox(['config', 'check'], workspace('version: 1\nproduction: [unclosed\n'));
    assert.equal(code, 2);
    assert.match(stderr, /^infra-sandbox\.yaml:\d+:\d+: error YAML syntax: /m);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('init writes the starter config once and never overwrites it', () => {
    const dir = workspace();
    assert.equal(infraSandbox(['init'], dir).code, 0);
    const written = readFileSync(join(dir, 'infra-sandbox.yaml'), 'utf8');
    assert.equal(infraSandbox(['config', 'check'], dir).code, 0, 'the starter config must be valid');
    writeFileSync(join(dir, 'infra-sandbox.yaml'), `${written}# mine\n`);
    const again = infraSandbox(['init'], dir);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /kept the existing/);
    assert.ok(readFileSync(join(dir, 'infra-sandbox.yaml'), 'utf8').endsWith('# mine\n'));
  });

  it('commands of later versions refuse honestly with exit 2', () => {
    const dir = workspace();
    copyFileSync(example, join(dir, 'infra-sandbox.yaml'));
    const { code, stderr } = infraSandbox(['gate', 'plan', '--dir', 'infra/dns'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /`infra-sandbox gate plan` is not available yet .*nothing was done/);
  });

  it('every command has --help (exit 0)', () => {
    const commands = [
      [],
      ['config', 'check'],
      ['sandbox', 'up'],
      ['guard', 'exec'],
      ['gate', 'plan'],
      ['gate', 'idempotence'],
      ['env', 'use'],
      ['ledger'],
      ['promote', 'check'],
      ['serve'],
      ['init'],
    ];
    for (const c of commands) {
      const { code, stdout } = infraSandbox([...c, '--help']);
      assert.equal(code, 0, c.join(' '));
      assert.match(stdout, /^Usage: infra-sandbox/, c.join(' '));
    }
  });

  it('a usage error exits 2', () => {
    assert.equal(infraSandbox(['sandbox', 'frobnicate']).code, 2);
    assert.equal(infraSandbox(['--no-such-flag']).code, 2);
  });
});
