// Operations through the companion (SPEC §6; issue #4): every client sees every operation's
// progress and log lines; any client can cancel; the end is recorded in the ledger next to the
// operation's config. The operation kinds here are test-only (registered through `operations`).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResponseError } from 'vscode-jsonrpc/node';
import type { CompanionConnection } from '../../../src/companion/client';
import type { Companion } from '../../../src/companion/server';
import {
  CancelOperation,
  ErrorCodes,
  Hello,
  ListOperations,
  OperationChanged,
  OperationKinds,
  OperationLog,
  QueryLedger,
  StartOperation,
  type OperationInfo,
  type OperationLogLine,
} from '../../../src/protocol/companion';
import { rpcClient, testCompanion, waitFor } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

let companion: Companion;
const configFile = join(tempDir('companion-ops'), 'infra-sandbox.yaml');

before(async () => {
  companion = await testCompanion({
    operations: (m) => {
      // Reports a step every 10 ms until cancelled (or params.steps steps).
      m.register('test.steps', async (ctx) => {
        const steps = (ctx.params as { steps?: number } | undefined)?.steps ?? 10_000;
        for (let i = 1; i <= steps; i++) {
          ctx.signal.throwIfAborted();
          ctx.progress(`step ${i}`, i / steps);
          ctx.log(`line ${i}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        return { steps };
      });
    },
  });
});
after(() => companion.close());

/** A client that records what it hears. */
async function watcher(): Promise<{ c: CompanionConnection; changes: OperationInfo[]; logs: OperationLogLine[] }> {
  const c = await rpcClient(companion);
  const changes: OperationInfo[] = [];
  const logs: OperationLogLine[] = [];
  c.onNotification(OperationChanged, (op) => {
    changes.push(op);
  });
  c.onNotification(OperationLog, (l) => {
    logs.push(l);
  });
  return { c, changes, logs };
}

describe('companion operations', () => {
  it('two clients: both see the progress and log lines of an operation one started; the other cancels it', async () => {
    const a = await watcher();
    const b = await watcher();
    const op = await a.c.sendRequest(StartOperation, {
      kind: 'test.steps',
      key: 'lab',
      configFile,
      origin: 'cli',
    });
    assert.equal(op.state, 'running');
    for (const w of [a, b]) {
      await waitFor(() => w.logs.filter((l) => l.id === op.id).length >= 3, 5000, 'log lines');
      await waitFor(() => w.changes.some((c) => c.id === op.id && c.message?.startsWith('step')), 5000, 'progress');
    }
    const hello = await b.c.sendRequest(Hello);
    assert.equal(hello.clients, 2);
    assert.equal(hello.operations, 1);

    const cancelled = await b.c.sendRequest(CancelOperation, { id: op.id });
    assert.equal(cancelled.id, op.id);
    for (const w of [a, b]) {
      const last = await waitFor(
        () => w.changes.find((c) => c.id === op.id && c.state === 'cancelled'),
        5000,
        'the cancelled state',
      );
      assert.ok(last.endedAt);
    }
    // It stopped: no more log lines after the end.
    const count = a.logs.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(a.logs.length, count);

    const listed = await a.c.sendRequest(ListOperations, { finished: 5 });
    assert.equal(listed.find((o) => o.id === op.id)?.state, 'cancelled');
    const ledger = await waitFor(async () => {
      const entries = await a.c.sendRequest(QueryLedger, { configFile });
      return entries.find((e) => e.operationId === op.id);
    });
    assert.equal(ledger.result, 'cancelled');
    assert.equal(ledger.subject, 'test.steps');
    assert.ok(existsSync(join(configFile, '..', '.infra-sandbox', 'ledger.jsonl')));
    await a.c.close();
    await b.c.close();
  });

  it('one operation per key: the second queues visibly and runs when the first ends', async () => {
    const w = await watcher();
    const first = await w.c.sendRequest(StartOperation, { kind: 'test.steps', key: 'stack', params: { steps: 5 } });
    const second = await w.c.sendRequest(StartOperation, { kind: 'test.steps', key: 'stack', params: { steps: 2 } });
    assert.equal(second.state, 'queued');
    assert.match(second.message ?? '', new RegExp(first.id));
    const listed = await w.c.sendRequest(ListOperations, { finished: 0 });
    assert.deepEqual(
      listed.map((o) => [o.id, o.state]),
      [
        [first.id, 'running'],
        [second.id, 'queued'],
      ],
    );
    const done = await waitFor(() => w.changes.find((c) => c.id === second.id && c.state === 'succeeded'), 5000);
    assert.deepEqual(done.result, { steps: 2 });
    const order = w.changes.filter((c) => c.state === 'succeeded').map((c) => c.id);
    assert.deepEqual(order, [first.id, second.id]);
    await w.c.close();
  });

  it('kinds this version does not have answer NotAvailable, naming why; unknown ids answer UnknownOperation', async () => {
    const c = await rpcClient(companion);
    assert.deepEqual(await c.sendRequest(OperationKinds), [
      'sandbox.destroy',
      'sandbox.start',
      'sandbox.stop',
      'sandbox.up',
      'test.steps',
    ]);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('expected an error'),
        (err: ResponseError<unknown>) => err,
      );
    const gate = await refusal(c.sendRequest(StartOperation, { kind: 'gate.plan', key: 'infra/dns' }));
    assert.equal(gate.code, ErrorCodes.NotAvailable);
    assert.match(gate.message, /gates are not in this version/);
    const other = await refusal(c.sendRequest(StartOperation, { kind: 'frobnicate', key: 'x' }));
    assert.equal(other.code, ErrorCodes.NotAvailable);
    const unknown = await refusal(c.sendRequest(CancelOperation, { id: 'op-000000000000' }));
    assert.equal(unknown.code, ErrorCodes.UnknownOperation);
    await c.close();
  });

  it('a client that disconnects mid-operation leaves it running for the others', async () => {
    const a = await watcher();
    const b = await watcher();
    const op = await a.c.sendRequest(StartOperation, { kind: 'test.steps', key: 'nodes', params: { steps: 20 } });
    await a.c.close();
    const done = await waitFor(() => b.changes.find((c) => c.id === op.id && c.state === 'succeeded'), 5000);
    assert.deepEqual(done.result, { steps: 20 });
    await b.c.close();
  });

  it('close(): running operations end cancelled, and every client hears it before its socket closes', async () => {
    const own = await testCompanion({
      operations: (m) =>
        m.register(
          'test.forever',
          (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        ),
    });
    const c = await rpcClient(own);
    const changes: OperationInfo[] = [];
    c.onNotification(OperationChanged, (op) => {
      changes.push(op);
    });
    const closed = new Promise<void>((r) => c.onClose(() => r()));
    const op = await c.sendRequest(StartOperation, { kind: 'test.forever', key: 'k' });
    await waitFor(() => changes.some((x) => x.id === op.id && x.state === 'running'));
    await own.close();
    await closed;
    assert.equal(changes.at(-1)?.state, 'cancelled');
    assert.equal(changes.at(-1)?.id, op.id);
  });
});
