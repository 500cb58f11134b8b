import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { readLedger } from '../../../src/core/ledger';
import {
  OperationError,
  OperationManager,
  type OperationContext,
  type OperationManagerOptions,
} from '../../../src/core/ops/operations';
import { ErrorCodes, type OperationInfo, type OperationLogLine } from '../../../src/protocol/companion';
import { tempDir } from '../../helpers/tmp';

/** A runner whose every call waits until the test settles it. */
function controlled() {
  const calls: { ctx: OperationContext; resolve(v?: unknown): void; reject(e: unknown): void }[] = [];
  const runner = (ctx: OperationContext) =>
    new Promise<unknown>((resolve, reject) => calls.push({ ctx, resolve, reject }));
  const call = async (id: string) => {
    await until(() => calls.some((c) => c.ctx.id === id), `runner called for ${id}`);
    return calls.find((c) => c.ctx.id === id)!;
  };
  return { runner, calls, call };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(2);
  }
}

const FINISHED = ['succeeded', 'failed', 'cancelled', 'interrupted'];

async function ended(m: OperationManager, id: string): Promise<OperationInfo> {
  await until(() => FINISHED.includes(m.get(id)?.state ?? ''), `${id} to end`);
  return m.get(id)!;
}

function setup(opts: Partial<OperationManagerOptions> = {}) {
  const dir = tempDir('ops');
  const journalFile = join(dir, 'state', 'operations.jsonl');
  const configFile = join(dir, 'ws', 'infra-sandbox.yaml');
  const m = new OperationManager({ journalFile, ...opts });
  const changes: OperationInfo[] = [];
  m.onChanged((op) => changes.push(op));
  return { dir, journalFile, configFile, m, changes };
}

function journal(file: string): { pid: number; op: OperationInfo }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { pid: number; op: OperationInfo });
}

describe('OperationManager', () => {
  it('runs different keys at once and queues the same key FIFO', async () => {
    const { m } = setup();
    const r = controlled();
    m.register('sandbox.up', r.runner);
    m.register('sandbox.destroy', r.runner);
    assert.deepEqual(m.kinds(), ['sandbox.destroy', 'sandbox.up']);

    const a = m.start({ kind: 'sandbox.up', key: 'lab', origin: 'cli' });
    const b = m.start({ kind: 'sandbox.up', key: 'web' });
    const c = m.start({ kind: 'sandbox.destroy', key: 'lab' });
    const d = m.start({ kind: 'sandbox.up', key: 'lab' });
    assert.match(a.id, /^op-[0-9a-f]{12}$/);
    assert.equal(new Set([a.id, b.id, c.id, d.id]).size, 4);
    assert.equal(a.state, 'running');
    assert.equal(a.origin, 'cli');
    assert.equal(b.state, 'running');
    assert.equal(c.state, 'queued');
    assert.equal(c.message, `waiting for sandbox.up of lab (${a.id})`);
    assert.equal(d.state, 'queued');
    assert.equal(m.activeCount, 4);
    assert.deepEqual(
      m.list().map((o) => o.id),
      [a.id, b.id, c.id, d.id],
    );

    await r.call(a.id);
    await r.call(b.id);
    await sleep(10);
    assert.equal(r.calls.length, 2, 'the queued ones have not started');

    (await r.call(a.id)).resolve({ ready: true });
    assert.deepEqual((await ended(m, a.id)).result, { ready: true });
    await r.call(c.id);
    assert.equal(m.get(c.id)!.state, 'running');
    assert.equal(m.get(d.id)!.state, 'queued');
    assert.equal(m.get(d.id)!.message, `waiting for sandbox.destroy of lab (${c.id})`);

    (await r.call(c.id)).resolve();
    (await r.call(d.id)).resolve();
    (await r.call(b.id)).resolve();
    for (const id of [b.id, c.id, d.id]) assert.equal((await ended(m, id)).state, 'succeeded');
    assert.equal(m.activeCount, 0);
    assert.deepEqual(
      r.calls.map((x) => x.ctx.id),
      [a.id, b.id, c.id, d.id],
    );
  });

  it('passes kind, key, params and configFile to the runner', async () => {
    const { m, configFile } = setup({ ledger: async () => {} });
    const r = controlled();
    m.register('gate.plan', r.runner);
    const op = m.start({ kind: 'gate.plan', key: 'net', configFile, params: { dir: 'tofu' } });
    const { ctx, resolve } = await r.call(op.id);
    assert.deepEqual(
      { id: ctx.id, kind: ctx.kind, key: ctx.key, params: ctx.params, configFile: ctx.configFile },
      { id: op.id, kind: 'gate.plan', key: 'net', params: { dir: 'tofu' }, configFile },
    );
    assert.equal(ctx.signal.aborted, false);
    resolve();
    await ended(m, op.id);
  });

  it('lists running, then queued in arrival order, then finished newest first', async () => {
    const { m } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const done1 = m.start({ kind: 'k', key: 'x' });
    (await r.call(done1.id)).resolve();
    await ended(m, done1.id);
    const done2 = m.start({ kind: 'k', key: 'y' });
    (await r.call(done2.id)).resolve();
    await ended(m, done2.id);
    const run1 = m.start({ kind: 'k', key: 'a' });
    const q1 = m.start({ kind: 'k', key: 'a' });
    const run2 = m.start({ kind: 'k', key: 'b' });
    const q2 = m.start({ kind: 'k', key: 'b' });
    const q3 = m.start({ kind: 'k', key: 'a' });
    assert.deepEqual(
      m.list().map((o) => o.id),
      [run1.id, run2.id, q1.id, q2.id, q3.id, done2.id, done1.id],
    );
    assert.deepEqual(
      m.list({ finished: 1 }).map((o) => o.id),
      [run1.id, run2.id, q1.id, q2.id, q3.id, done2.id],
    );
    assert.equal(m.list({ finished: 0 }).length, 5);
    await m.shutdown(1000);
  });

  it('refuses an unknown kind with NotAvailable, naming the kinds it has', () => {
    const { m } = setup();
    m.register('sandbox.up', async () => {});
    m.register('gate.plan', async () => {});
    assert.throws(
      () => m.start({ kind: 'sandbox.teleport', key: 'lab' }),
      (err: unknown) =>
        err instanceof OperationError &&
        err.code === ErrorCodes.NotAvailable &&
        /sandbox\.teleport/.test(err.message) &&
        /available: gate\.plan, sandbox\.up/.test(err.message),
    );
    assert.throws(
      () => m.start({ kind: 'sandbox.up', key: '' }),
      (err: unknown) => err instanceof OperationError && err.code === ErrorCodes.BadInput,
    );
    assert.equal(m.activeCount, 0);
  });

  it('cancels a queued operation at once; it never runs', async () => {
    const { m, changes } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    const b = m.start({ kind: 'k', key: 'lab' });
    const c = m.start({ kind: 'k', key: 'lab' });
    const cancelled = m.cancel(b.id);
    assert.equal(cancelled.state, 'cancelled');
    assert.ok(cancelled.endedAt);
    assert.equal(m.get(b.id)!.state, 'cancelled');
    assert.ok(changes.some((x) => x.id === b.id && x.state === 'cancelled'));
    (await r.call(a.id)).resolve();
    (await r.call(c.id)).resolve();
    await ended(m, c.id);
    assert.deepEqual(
      r.calls.map((x) => x.ctx.id),
      [a.id, c.id],
    );
  });

  it('cancels a running operation through its signal; cancelled once the runner settles', async () => {
    const { m } = setup();
    m.register(
      'k',
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const r = controlled();
    m.register('next', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    const b = m.start({ kind: 'next', key: 'lab' });
    await sleep(5);
    const info = m.cancel(a.id);
    assert.equal(info.state, 'running', 'running until the runner settles');
    const done = await ended(m, a.id);
    assert.equal(done.state, 'cancelled');
    assert.equal(done.error, undefined);
    // The key passes to the next one.
    (await r.call(b.id)).resolve();
    assert.equal((await ended(m, b.id)).state, 'succeeded');
  });

  it('a runner that ignores the signal still ends as cancelled, without its result', async () => {
    const { m } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    const call = await r.call(a.id);
    m.cancel(a.id);
    assert.equal(call.ctx.signal.aborted, true);
    await sleep(10);
    assert.equal(m.get(a.id)!.state, 'running');
    call.resolve({ done: true });
    const done = await ended(m, a.id);
    assert.equal(done.state, 'cancelled');
    assert.equal(done.result, undefined);
  });

  it('a cancel before the runner is called means it is never called', async () => {
    const { m } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    m.cancel(a.id);
    assert.equal((await ended(m, a.id)).state, 'cancelled');
    assert.equal(r.calls.length, 0);
  });

  it('cancel of a finished operation returns it unchanged; an unknown id is UnknownOperation', async () => {
    const { m } = setup();
    m.register('k', async () => 42);
    const a = m.start({ kind: 'k', key: 'lab' });
    const done = await ended(m, a.id);
    assert.deepEqual(m.cancel(a.id), done);
    assert.equal(done.result, 42);
    assert.throws(
      () => m.cancel('op-000000000000'),
      (err: unknown) => err instanceof OperationError && err.code === ErrorCodes.UnknownOperation,
    );
  });

  it('a thrown error fails the operation with its message, no stack', async () => {
    const { m } = setup();
    m.register('k', async () => {
      throw new Error('k3d cluster create exited with code 1:\nport 6443 is in use');
    });
    m.register('s', async () => {
      throw 'a string';
    });
    const a = await ended(m, m.start({ kind: 'k', key: 'lab' }).id);
    assert.equal(a.state, 'failed');
    assert.equal(a.error, 'k3d cluster create exited with code 1:\nport 6443 is in use');
    assert.doesNotMatch(a.error!, /\n\s+at /);
    assert.equal((await ended(m, m.start({ kind: 's', key: 'lab' }).id)).error, 'a string');
  });

  it('throttles progress to about 20 notifications a second and delivers the last one', async () => {
    const { m, changes } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    const { ctx, resolve } = await r.call(a.id);
    const progressEvents = () => changes.filter((c) => c.id === a.id && c.state === 'running' && c.message).length;

    for (let i = 1; i <= 1000; i++) ctx.progress(`step ${i}`, i / 1000);
    assert.ok(progressEvents() <= 1, `a burst notifies once at once (${progressEvents()})`);
    await sleep(120);
    assert.ok(progressEvents() <= 2, `then once more (${progressEvents()})`);
    const last = changes.filter((c) => c.id === a.id).at(-1)!;
    assert.equal(last.message, 'step 1000');
    assert.equal(last.fraction, 1);

    const before = progressEvents();
    const started = Date.now();
    while (Date.now() - started < 500) {
      ctx.progress('pulling image');
      await sleep(2);
    }
    await sleep(60);
    const during = progressEvents() - before;
    assert.ok(during >= 3 && during <= 14, `half a second of progress every 2 ms → ${during} notifications`);
    resolve();
    await ended(m, a.id);
  });

  it('sends log lines to onLog only, split on newlines', async () => {
    const { m, journalFile } = setup();
    const lines: OperationLogLine[] = [];
    m.onLog((l) => lines.push(l));
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab' });
    const { ctx, resolve } = await r.call(a.id);
    ctx.log('INFO[0000] Creating cluster');
    ctx.log('warning one\nwarning two\n', 'stderr');
    resolve();
    await ended(m, a.id);
    assert.deepEqual(
      lines.map((l) => [l.id, l.stream, l.line]),
      [
        [a.id, 'info', 'INFO[0000] Creating cluster'],
        [a.id, 'stderr', 'warning one'],
        [a.id, 'stderr', 'warning two'],
      ],
    );
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.at))));
    assert.doesNotMatch(readFileSync(journalFile, 'utf8'), /Creating cluster/);
  });

  it('a throwing listener breaks neither the manager nor the other listeners', async () => {
    const errors: string[] = [];
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error: (s: string) => errors.push(s) };
    const { m, changes } = setup({ logger });
    m.onChanged(() => {
      throw new Error('listener bug');
    });
    m.onLog(() => {
      throw new Error('log listener bug');
    });
    m.register('k', async (ctx) => {
      ctx.log('hello');
      return 'ok';
    });
    const a = m.start({ kind: 'k', key: 'lab' });
    assert.equal((await ended(m, a.id)).state, 'succeeded');
    assert.ok(changes.some((c) => c.id === a.id && c.state === 'succeeded'));
    assert.ok(errors.some((e) => /listener bug/.test(e)));
  });

  it('disposed listeners hear nothing more', async () => {
    const { m } = setup();
    const seen: string[] = [];
    const sub = m.onChanged((op) => seen.push(op.state));
    m.register('k', async () => {});
    sub.dispose();
    await ended(m, m.start({ kind: 'k', key: 'lab' }).id);
    assert.deepEqual(seen, []);
  });

  it('records every end in the ledger next to the config', async () => {
    const { m, configFile } = setup();
    const r = controlled();
    m.register('sandbox.up', r.runner);
    m.register('gate.plan', async () => {
      throw new Error('tofu plan failed');
    });
    const ok = m.start({ kind: 'sandbox.up', key: 'lab', configFile });
    const queued = m.start({ kind: 'sandbox.up', key: 'lab', configFile });
    const noConfig = m.start({ kind: 'sandbox.up', key: 'other' });
    m.cancel(queued.id);
    await sleep(20);
    (await r.call(ok.id)).resolve();
    (await r.call(noConfig.id)).resolve();
    await ended(m, ok.id);
    const failed = m.start({ kind: 'gate.plan', key: 'net', configFile });
    await ended(m, failed.id);
    await ended(m, noConfig.id);
    await m.flush();

    const { entries, skipped } = await readLedger(configFile);
    assert.equal(skipped, 0);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.subject, e.key, e.result, e.operationId, e.error]),
      [
        ['operation', 'sandbox.up', 'lab', 'cancelled', queued.id, undefined],
        ['operation', 'sandbox.up', 'lab', 'succeeded', ok.id, undefined],
        ['operation', 'gate.plan', 'net', 'failed', failed.id, 'tofu plan failed'],
      ],
    );
    const up = entries[1];
    assert.equal(up.at, m.get(ok.id)!.endedAt);
    assert.ok(up.durations!.runMs >= 15, `runMs ${up.durations!.runMs}`);
    assert.ok(up.durations!.queuedMs >= 0);
    assert.ok(entries[0].durations!.queuedMs >= 0);
    assert.equal(entries[0].durations!.runMs, 0);
  });

  it('a failing ledger write is reported, not thrown', async () => {
    const errors: string[] = [];
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error: (s: string) => errors.push(s) };
    const { m, configFile } = setup({
      logger,
      ledger: async () => {
        throw new Error('disk full');
      },
    });
    m.register('k', async () => {});
    await ended(m, m.start({ kind: 'k', key: 'lab', configFile }).id);
    await m.flush();
    assert.ok(errors.some((e) => /ledger.*disk full/.test(e)));
  });

  it('journals each state transition as a full snapshot, not progress', async () => {
    const { m, journalFile } = setup();
    const r = controlled();
    m.register('k', r.runner);
    const a = m.start({ kind: 'k', key: 'lab', origin: 'vscode' });
    const b = m.start({ kind: 'k', key: 'lab' });
    const call = await r.call(a.id);
    for (let i = 0; i < 50; i++) call.ctx.progress(`step ${i}`);
    call.resolve('done');
    await ended(m, a.id);
    (await r.call(b.id)).resolve();
    await ended(m, b.id);
    const lines = journal(journalFile);
    assert.deepEqual(
      lines.map((l) => [l.op.id, l.op.state]),
      [
        [a.id, 'running'],
        [b.id, 'queued'],
        [a.id, 'succeeded'],
        [b.id, 'running'],
        [b.id, 'succeeded'],
      ],
    );
    assert.ok(lines.every((l) => l.pid === process.pid));
    assert.equal(lines[2].op.result, 'done');
    assert.equal(lines[2].op.origin, 'vscode');
  });

  it('recover(): a crashed companion’s running and queued operations become interrupted', async () => {
    const { journalFile, configFile } = setup();
    // The first companion: one running, one queued, one finished; then it "dies" (no shutdown).
    const first = new OperationManager({ journalFile });
    const r = controlled();
    first.register('sandbox.up', r.runner);
    first.register('quick', async () => 'fine');
    const done = first.start({ kind: 'quick', key: 'other', configFile });
    await ended(first, done.id);
    const running = first.start({ kind: 'sandbox.up', key: 'lab', configFile });
    const queued = first.start({ kind: 'sandbox.up', key: 'lab', configFile });
    await r.call(running.id);
    await first.flush();

    const second = new OperationManager({ journalFile });
    second.register('sandbox.up', r.runner);
    const interrupted = await second.recover();
    assert.deepEqual(
      interrupted.map((o) => [o.id, o.state, o.error]).sort(),
      [
        [running.id, 'interrupted', `the companion stopped (pid ${process.pid}) while it was running`],
        [queued.id, 'interrupted', `the companion stopped (pid ${process.pid}) while it was queued`],
      ].sort(),
    );
    assert.ok(interrupted.every((o) => o.endedAt && o.configFile === configFile));

    const { entries } = await readLedger(configFile);
    const ledgerInterrupted = entries.filter((e) => e.result === 'interrupted');
    assert.equal(ledgerInterrupted.length, 2);
    assert.deepEqual(ledgerInterrupted.map((e) => e.operationId).sort(), [running.id, queued.id].sort());
    assert.ok(ledgerInterrupted.every((e) => e.kind === 'operation' && e.subject === 'sandbox.up' && e.key === 'lab'));
    assert.equal(entries.filter((e) => e.result === 'succeeded').length, 1, 'the finished one is not recorded again');

    const listed = second.list();
    assert.deepEqual(listed.map((o) => o.id).sort(), [done.id, running.id, queued.id].sort());
    assert.equal(second.get(running.id)!.state, 'interrupted');
    assert.equal(second.get(done.id)!.result, 'fine');
    assert.equal(second.activeCount, 0);

    // Written back: a third start-up finds nothing more to interrupt.
    assert.deepEqual(
      journal(journalFile)
        .map((l) => l.op.state)
        .sort(),
      ['interrupted', 'interrupted', 'succeeded'],
    );
    const third = new OperationManager({ journalFile });
    assert.deepEqual(await third.recover(), []);
    assert.equal(third.list().length, 3);
    assert.equal((await readLedger(configFile)).entries.length, 3);

    // The key is free in the new companion.
    const again = second.start({ kind: 'sandbox.up', key: 'lab' });
    assert.equal(again.state, 'running');
    (await r.call(again.id)).resolve();
    await ended(second, again.id);
  });

  it('recover() compacts the journal to the last keepFinished finished operations', async () => {
    const { journalFile } = setup();
    const first = new OperationManager({ journalFile, keepFinished: 100 });
    first.register('k', async () => {});
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const op = first.start({ kind: 'k', key: `s${i}` });
      ids.push(op.id);
      await ended(first, op.id);
    }
    assert.equal(journal(journalFile).length, 12);
    const second = new OperationManager({ journalFile, keepFinished: 2 });
    assert.deepEqual(await second.recover(), []);
    assert.deepEqual(
      journal(journalFile).map((l) => l.op.id),
      ids.slice(-2),
    );
    assert.deepEqual(
      second.list().map((o) => o.id),
      ids.slice(-2).reverse(),
    );
  });

  it('recover() survives a torn last journal line and a missing journal', async () => {
    const { journalFile } = setup();
    assert.deepEqual(await new OperationManager({ journalFile }).recover(), []);
    const first = new OperationManager({ journalFile });
    first.register('k', () => new Promise(() => {}));
    const op = first.start({ kind: 'k', key: 'lab' });
    const { appendFileSync } = await import('node:fs');
    appendFileSync(journalFile, '{"pid":1,"op":{"id":"op-');
    const interrupted = await new OperationManager({ journalFile }).recover();
    assert.deepEqual(
      interrupted.map((o) => o.id),
      [op.id],
    );
  });

  it('shutdown(): cancels everything and waits for the runners to settle', async () => {
    const { m, configFile } = setup();
    m.register(
      'k',
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
    );
    const a = m.start({ kind: 'k', key: 'lab', configFile });
    const b = m.start({ kind: 'k', key: 'lab', configFile });
    await sleep(5);
    await m.shutdown(1000);
    assert.equal(m.get(a.id)!.state, 'cancelled');
    assert.equal(m.get(b.id)!.state, 'cancelled');
    assert.equal(m.activeCount, 0);
    assert.deepEqual(
      (await readLedger(configFile)).entries.map((e) => e.result),
      ['cancelled', 'cancelled'],
    );
    assert.throws(
      () => m.start({ kind: 'k', key: 'lab' }),
      (err: unknown) => err instanceof OperationError && err.code === ErrorCodes.NotAvailable,
    );
  });

  it('shutdown(): a runner that never settles is recorded as interrupted after the timeout', async () => {
    const { m, configFile, journalFile } = setup();
    let aborted = false;
    m.register(
      'stuck',
      (ctx) =>
        new Promise(() => {
          ctx.signal.addEventListener('abort', () => (aborted = true));
        }),
    );
    const a = m.start({ kind: 'stuck', key: 'lab', configFile });
    await sleep(5);
    const started = Date.now();
    await m.shutdown(100);
    assert.ok(Date.now() - started >= 90);
    assert.ok(aborted);
    const info = m.get(a.id)!;
    assert.equal(info.state, 'interrupted');
    assert.match(info.error!, /did not end within 100 ms/);
    assert.equal(journal(journalFile).at(-1)!.op.state, 'interrupted');
    const { entries } = await readLedger(configFile);
    assert.deepEqual(
      entries.map((e) => [e.operationId, e.result]),
      [[a.id, 'interrupted']],
    );
  });
});
