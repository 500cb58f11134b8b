import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { parseDuration, TtlWatcher, type IdleNotice } from '../../../src/core/sandbox/ttl';
import type { SandboxStatus } from '../../../src/core/sandbox/types';

const H = 3_600_000;
const T0 = 1_700_000_000_000; // activity times are epoch milliseconds
const running = (name: string): SandboxStatus => ({
  name,
  provider: 'compose',
  state: 'running',
  members: [],
  artifacts: {},
});

function setup(ttl: string | undefined, activity: Record<string, number>) {
  let now = 0;
  const events: string[] = [];
  const states = new Map<string, SandboxStatus>([
    ['lab', running('lab')],
    ['other', running('other')],
  ]);
  const config: WorkspaceConfig = { version: 1, ...(ttl ? { limits: { ttl } } : {}) };
  const watcher = new TtlWatcher({
    now: () => now,
    loadConfig: async () => config,
    list: async () => [...states.values()],
    lastActivities: async () => new Map(Object.entries(activity).map(([name, ms]) => [name, T0 + ms])),
    warn: (n: IdleNotice) => events.push(`warn ${n.name} in ${n.stopInMs / 60_000} min`),
    stop: (n: IdleNotice) => {
      events.push(`stop ${n.name} after ${n.idleMs / H} h`);
      states.set(n.name, { ...running(n.name), state: 'stopped' });
    },
  });
  watcher.track('/w/infra-sandbox.yaml');
  return { watcher, events, states, at: (ms: number) => (now = T0 + ms) };
}

describe('idle ttl', () => {
  it('parses 90s, 30m, 8h, 2d and nothing else', () => {
    assert.deepEqual(['90s', '30m', '8h', '2d', '8', 'h', '1.5h', ''].map(parseDuration), [
      90_000,
      1_800_000,
      8 * H,
      48 * H,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('warns once ten minutes before, then stops once, only the idle sandbox', async () => {
    const { watcher, events, at } = setup('8h', { lab: 0, other: 7 * H });
    at(7 * H);
    await watcher.tick();
    assert.deepEqual(events, []);
    at(8 * H - 9 * 60_000);
    await watcher.tick();
    await watcher.tick();
    assert.deepEqual(events, ['warn lab in 9 min']);
    at(8 * H);
    await watcher.tick();
    await watcher.tick();
    assert.deepEqual(events, ['warn lab in 9 min', 'stop lab after 8 h']);
  });

  it('keep starts the idle time again; no ttl, no action', async () => {
    const kept = setup('1h', { lab: 0, other: 0 });
    kept.at(55 * 60_000);
    await kept.watcher.tick();
    kept.watcher.keep('/w/infra-sandbox.yaml', 'lab');
    kept.at(60 * 60_000);
    await kept.watcher.tick();
    assert.deepEqual(kept.events, ['warn lab in 5 min', 'warn other in 5 min', 'stop other after 1 h']);

    const none = setup(undefined, { lab: 0 });
    none.at(100 * H);
    await none.watcher.tick();
    assert.deepEqual(none.events, []);
  });
});
