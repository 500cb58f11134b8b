import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { appendLedger, ledgerPath } from '../../src/core/ledger';
import type { LedgerEntry } from '../../src/protocol/companion';
import { tempDir } from '../helpers/tmp';

// The built CLI, run as a user runs it (npm test builds it first).
const repo = resolve(__dirname, '../..');
const cli = join(repo, 'dist', 'cli.js');

function infraSandbox(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function workspace(): { dir: string; config: string } {
  const dir = tempDir('ledger-cli');
  const config = join(dir, 'infra-sandbox.yaml');
  writeFileSync(config, 'version: 1\n');
  return { dir, config };
}

const up: LedgerEntry = {
  at: '2026-11-30T05:21:03.000Z',
  kind: 'operation',
  subject: 'sandbox.up',
  key: 'lab',
  result: 'succeeded',
  operationId: 'op-0123456789ab',
  durations: { queuedMs: 0, runMs: 12_300 },
};
const plan: LedgerEntry = {
  at: '2026-11-30T05:30:00.000Z',
  kind: 'operation',
  subject: 'gate.plan',
  key: 'network',
  result: 'failed',
  operationId: 'op-ba9876543210',
  durations: { queuedMs: 1500, runMs: 125_000 },
  error: 'tofu plan exited with code 1:\nError: Invalid provider',
};

describe('infra-sandbox ledger', () => {
  before(() => assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first'));

  it('says so when there is no ledger yet, with its path', () => {
    const { dir } = workspace();
    const { code, stdout, stderr } = infraSandbox(['ledger'], dir);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `no ledger entries yet (${join('.infra-sandbox', 'ledger.jsonl')})\n`);
  });

  it('prints one line per entry, oldest first, from a subfolder too', async () => {
    const { dir, config } = workspace();
    await appendLedger(config, up);
    await appendLedger(config, plan);
    mkdirSync(join(dir, 'ansible', 'roles'), { recursive: true });
    for (const cwd of [dir, join(dir, 'ansible', 'roles')]) {
      const { code, stdout, stderr } = infraSandbox(['ledger'], cwd);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      assert.equal(
        stdout,
        [
          '2026-11-30 05:21:03  operation sandbox.up lab     succeeded  12.3 s',
          '2026-11-30 05:30:00  operation gate.plan network  failed     2 min 05 s  tofu plan exited with code 1: Error: Invalid provider',
          '',
        ].join('\n'),
      );
    }
  });

  it('--limit N shows the last N; a bad N is a usage error', async () => {
    const { dir, config } = workspace();
    await appendLedger(config, up);
    await appendLedger(config, plan);
    const { code, stdout } = infraSandbox(['ledger', '--limit', '1'], dir);
    assert.equal(code, 0);
    assert.match(stdout, /^2026-11-30 05:30:00 {2}operation gate\.plan network {2}failed/);
    assert.equal(stdout.split('\n').length, 2);
    for (const bad of ['abc', '0', '-1']) {
      const r = infraSandbox(['ledger', '--limit', bad], dir);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--limit/);
    }
  });

  it('--json prints one document with the entries and the path', async () => {
    const { dir, config } = workspace();
    await appendLedger(config, up);
    await appendLedger(config, plan);
    const { code, stdout } = infraSandbox(['--json', 'ledger', '--limit', '5'], dir);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { file: ledgerPath(config), entries: [up, plan], skipped: 0 });
    const empty = workspace();
    assert.deepEqual(JSON.parse(infraSandbox(['ledger', '--json'], empty.dir).stdout), {
      file: ledgerPath(empty.config),
      entries: [],
      skipped: 0,
    });
  });

  it('a torn last line is skipped and mentioned on stderr', async () => {
    const { dir, config } = workspace();
    await appendLedger(config, up);
    appendFileSync(ledgerPath(config), '{"at":"2026-11-30T06:00:00.000Z","kind":"oper');
    const { code, stdout, stderr } = infraSandbox(['ledger'], dir);
    assert.equal(code, 0);
    assert.match(stdout, /^2026-11-30 05:21:03 {2}operation sandbox\.up lab {2}succeeded {2}12\.3 s\n$/);
    assert.match(stderr, /skipped 1 unreadable line in \.infra-sandbox\/ledger\.jsonl/);
    const json = infraSandbox(['--json', 'ledger'], dir);
    assert.equal(JSON.parse(json.stdout).skipped, 1);
    assert.match(json.stderr, /skipped 1 unreadable line/);
  });

  it('--config picks the ledger next to that file; without any config: exit 2', async () => {
    const { config } = workspace();
    await appendLedger(config, up);
    const elsewhere = tempDir('ledger-cli-none');
    const { code, stdout } = infraSandbox(['ledger', '--config', config], elsewhere);
    assert.equal(code, 0);
    assert.match(stdout, /sandbox\.up lab/);
    const none = infraSandbox(['ledger'], elsewhere);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no infra-sandbox\.yaml found/);
  });
});
