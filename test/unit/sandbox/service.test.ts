import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { readLedger } from '../../../src/core/ledger/ledger';
import { OperationManager } from '../../../src/core/ops/operations';
import { SandboxService } from '../../../src/core/sandbox/service';
import type { SandboxContext, SandboxProvider, SandboxStatus } from '../../../src/core/sandbox/types';
import { tempDir } from '../../helpers/tmp';

/** A provider whose sandboxes exist in a Set: enough to test the service's rules, not a provider. */
function memoryProvider(existing: Set<string>, calls: string[]): SandboxProvider {
  const status = (ctx: SandboxContext): SandboxStatus => ({
    name: ctx.name,
    provider: 'compose',
    state: existing.has(ctx.name) ? 'running' : 'absent',
    members: [],
    artifacts: {},
  });
  return {
    kind: 'compose',
    up: async (ctx) => {
      calls.push(`up ${ctx.name}`);
      existing.add(ctx.name);
      return { status: status(ctx), timeToReadyMs: 1234 };
    },
    start: async (ctx) => ({ status: status(ctx), timeToReadyMs: 10 }),
    stop: async (ctx) => status(ctx),
    destroy: async (ctx) => {
      calls.push(`destroy ${ctx.name}`);
      existing.delete(ctx.name);
    },
    status: async (ctx) => status(ctx),
    logs: async function* () {},
    shellCommand: async () => ['true'],
  };
}

const config = (max?: number): WorkspaceConfig => ({
  version: 1,
  sandboxes: {
    a: { provider: 'compose', template: 'compose/nodes' },
    b: { provider: 'compose', template: 'compose/nodes' },
    c: { provider: 'compose', template: 'compose/nodes' },
    vm: { provider: 'multipass', template: 'multipass/three-node' },
  },
  ...(max !== undefined ? { limits: { maxSandboxes: max } } : {}),
});

const ctx = (c: WorkspaceConfig, name: string): SandboxContext => ({
  root: '/w',
  configFile: '/w/infra-sandbox.yaml',
  config: c,
  name,
  env: {},
});

describe('sandbox service', () => {
  it('refuses the next sandbox past limits.maxSandboxes, saying which exist; re-up of an existing one is fine', async () => {
    const existing = new Set<string>();
    const calls: string[] = [];
    const service = new SandboxService({
      providers: { compose: memoryProvider(existing, calls) },
      freeMemory: () => 8e9,
    });
    const c = config(2);
    await service.run('up', ctx(c, 'a'));
    await service.run('up', ctx(c, 'b'));
    await assert.rejects(service.run('up', ctx(c, 'c')), (err: Error & { exitCode: number }) => {
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /limits\.maxSandboxes is 2 and 2 exist \(a: running, b: running\)/);
      return true;
    });
    await service.run('up', ctx(c, 'a'));
    assert.deepEqual(calls, ['up a', 'up b', 'up a']);
    await service.run('destroy', ctx(c, 'b'));
    await service.run('up', ctx(c, 'c'));
  });

  it('refuses to create when memory is short, and says how much is free', async () => {
    const service = new SandboxService({
      providers: { compose: memoryProvider(new Set(), []) },
      freeMemory: () => 300 * 1024 * 1024,
    });
    await assert.rejects(service.run('up', ctx(config(), 'a')), /only 300 MiB of memory are free/);
  });

  it('names the problem: unknown sandbox, invalid name, provider not available', async () => {
    const service = new SandboxService({
      providers: { compose: memoryProvider(new Set(), []) },
      freeMemory: () => 8e9,
    });
    await assert.rejects(
      service.run('up', ctx(config(), 'nope')),
      /no sandbox named "nope" in infra-sandbox.yaml; defined: a, b, c, vm/,
    );
    await assert.rejects(service.run('up', ctx(config(), 'Bad_Name')), /not a valid sandbox name: use a DNS label/);
    await assert.rejects(service.run('up', ctx(config(), 'vm')), /provider "multipass" is not available/);
  });

  it('an operation records time-to-ready first, then its own durations, in the ledger', async () => {
    const dir = tempDir('service-ledger');
    const configFile = join(dir, 'infra-sandbox.yaml');
    const service = new SandboxService({
      providers: { compose: memoryProvider(new Set(), []) },
      freeMemory: () => 8e9,
    });
    const manager = new OperationManager({ journalFile: join(dir, 'ops.jsonl') });
    manager.register('sandbox.up', (op) => service.run('up', { ...ctx(config(), op.key), configFile }));
    const op = manager.start({ kind: 'sandbox.up', key: 'a', configFile });
    await new Promise<void>((done) => {
      const sub = manager.onChanged((o) => {
        if (o.id === op.id && o.state === 'succeeded') {
          sub.dispose();
          done();
        }
      });
    });
    await manager.flush();
    const { entries } = await readLedger(configFile);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].subject, 'sandbox.up');
    assert.equal(entries[0].provider, 'compose');
    assert.deepEqual(Object.keys(entries[0].durations ?? {}).slice(0, 2), ['timeToReadyMs', 'totalMs']);
    assert.equal(entries[0].durations?.timeToReadyMs, 1234);
    assert.ok((entries[0].durations?.runMs ?? -1) >= 0);
  });
});
