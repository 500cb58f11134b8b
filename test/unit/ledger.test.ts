import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { open } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { appendLedger, ledgerPath, readLedger } from '../../src/core/ledger';
import type { LedgerEntry } from '../../src/protocol/companion';
import { tempDir } from '../helpers/tmp';

function entry(n: number, extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    at: new Date(Date.UTC(2026, 10, 30, 5, 21, n)).toISOString(),
    kind: 'operation',
    subject: 'sandbox.up',
    key: 'lab',
    result: 'succeeded',
    operationId: `op-${String(n).padStart(12, '0')}`,
    durations: { queuedMs: 0, runMs: 1000 * n },
    ...extra,
  };
}

function config(): string {
  return join(tempDir('ledger'), 'infra-sandbox.yaml');
}

describe('ledger', () => {
  it('lives in .infra-sandbox/ledger.jsonl next to the config', () => {
    assert.equal(ledgerPath('/ws/infra-sandbox.yaml'), join('/ws', '.infra-sandbox', 'ledger.jsonl'));
  });

  it('a missing ledger reads as empty', async () => {
    assert.deepEqual(await readLedger(config()), { entries: [], skipped: 0 });
  });

  it('appends one JSON line per entry, creating the folder 0700 and the file 0600', async () => {
    const file = config();
    await appendLedger(file, entry(1));
    await appendLedger(file, entry(2, { result: 'failed', error: 'boom' }));
    const path = ledgerPath(file);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[1]), entry(2, { result: 'failed', error: 'boom' }));
    assert.deepEqual(await readLedger(file), {
      entries: [entry(1), entry(2, { result: 'failed', error: 'boom' })],
      skipped: 0,
    });
  });

  it('concurrent appends are all present, each on its own line', async () => {
    const file = config();
    const n = 60;
    await Promise.all(Array.from({ length: n }, (_, i) => appendLedger(file, entry(i, { note: 'x'.repeat(500) }))));
    const { entries, skipped } = await readLedger(file);
    assert.equal(skipped, 0);
    assert.equal(entries.length, n);
    assert.deepEqual(
      entries.map((e) => e.operationId).sort(),
      Array.from({ length: n }, (_, i) => entry(i).operationId).sort(),
    );
  });

  it('fsyncs each entry after writing it', async () => {
    const file = config();
    const probe = await open(join(dirname(file), 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync(this: unknown): Promise<void> };
    await probe.close();
    const original = proto.sync;
    const linesAtSync: number[] = [];
    proto.sync = function (this: unknown) {
      linesAtSync.push(readFileSync(ledgerPath(file), 'utf8').split('\n').length - 1);
      return original.call(this);
    };
    try {
      await appendLedger(file, entry(1));
      await appendLedger(file, entry(2));
    } finally {
      proto.sync = original;
    }
    assert.deepEqual(linesAtSync, [1, 2]);
  });

  it('tolerates a torn last line and keeps the next append readable', async () => {
    const file = config();
    await appendLedger(file, entry(1));
    await appendLedger(file, entry(2));
    // A writer killed in the middle of its line.
    appendFileSync(ledgerPath(file), JSON.stringify(entry(3)).slice(0, 40));
    assert.deepEqual(await readLedger(file), { entries: [entry(1), entry(2)], skipped: 1 });
    await appendLedger(file, entry(4));
    assert.deepEqual(await readLedger(file), { entries: [entry(1), entry(2), entry(4)], skipped: 1 });
  });

  it('skips and counts any unparsable line, wherever it is', async () => {
    const file = config();
    mkdirSync(dirname(ledgerPath(file)), { recursive: true });
    writeFileSync(
      ledgerPath(file),
      [JSON.stringify(entry(1)), 'not json', '[1,2]', '{"no":"at"}', '', JSON.stringify(entry(2)), ''].join('\n'),
    );
    assert.deepEqual(await readLedger(file), { entries: [entry(1), entry(2)], skipped: 3 });
  });

  it('limit keeps the last N entries, newest last', async () => {
    const file = config();
    for (let i = 1; i <= 5; i++) await appendLedger(file, entry(i));
    assert.deepEqual((await readLedger(file, { limit: 2 })).entries, [entry(4), entry(5)]);
    assert.deepEqual((await readLedger(file, { limit: 50 })).entries.length, 5);
    assert.deepEqual((await readLedger(file, { limit: 0 })).entries, []);
  });
});
