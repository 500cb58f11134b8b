/**
 * Contract tests for the multipass provider (SPEC §7, §11): a fake `multipass` first on PATH
 * records its argv (and the cloud-init it gets on stdin) and replays multipass's own output formats
 * (test/fixtures/multipass/README.md says where each comes from). The argv is the contract and is
 * asserted exactly.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { WorkspaceConfig } from '../../src/core/config/types';
import { CancelledError, InfraSandboxError } from '../../src/core/exec';
import { ExitCode } from '../../src/core/exitCodes';
import { guardTargets } from '../../src/core/guard/guard';
import { MultipassProvider, multipassInventoryPath } from '../../src/core/sandbox/multipass';
import {
  multipassDelete,
  multipassExec,
  multipassInfo,
  multipassLaunch,
  multipassList,
  multipassMemberState,
  multipassNodeIndex,
  multipassStart,
  multipassStop,
  parseMultipassInfo,
  parseMultipassList,
} from '../../src/core/sandbox/multipassCli';
import { renderInventory } from '../../src/core/sandbox/multipassInventory';
import { builtinTemplatesDir } from '../../src/core/sandbox/templates';
import type { SandboxContext } from '../../src/core/sandbox/types';
import { FakeBin, fixture, type FakeRule } from '../helpers/fakeTool';
import { tempDir } from '../helpers/tmp';

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0Zml4dHVyZWtleWZvcnRlc3RzT25seU5vdEFSZWFsS2V5 dev@laptop';
const LIST = ['multipass', 'list', '--format', 'json'];
const INFO = ['multipass', 'info', '--format', 'json', 'isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'];
const DELETE_ALL = ['multipass', 'delete', '--purge', 'isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'];
const launch = (n: number): string[] => {
  const [cpus, memory, disk] = n === 1 ? ['2', '2G', '10G'] : ['1', '1536M', '8G'];
  return [
    'multipass',
    'launch',
    '24.04',
    '--name',
    `isb-nodes-${n}`,
    '--cpus',
    cpus,
    '--memory',
    memory,
    '--disk',
    disk,
    '--timeout',
    '900',
    '--cloud-init',
    '-',
  ];
};
const join_ = (n: number): string[] => [
  'multipass',
  'exec',
  `isb-nodes-${n}`,
  '--',
  'sudo',
  '/usr/local/sbin/isb-k3s-join',
  'https://10.21.124.56:6443',
];

const CONFIG_YAML = `version: 1
production:
  networks: [192.168.1.0/24]
sandbox:
  networks: [127.0.0.0/8, 10.21.124.0/24]
sandboxes:
  nodes:
    provider: multipass
    template: multipass/three-node
    groups: { k3s_server: [1], k3s_agents: [2, 3], pi2: [2] }
`;

const list = (name: string, calls?: number[]): FakeRule => ({
  args: ['list', '--format', 'json'],
  stdout: fixture('multipass', `list-${name}.json`),
  calls,
});
const info = (name = 'launched'): FakeRule => ({
  args: ['info', '--format', 'json', '...'],
  stdout: fixture('multipass', `info-${name}.json`),
});
const launchOk = (delayMs = 0): FakeRule[] =>
  [1, 2, 3].map((n) => ({
    args: ['launch', '24.04', '--name', `isb-nodes-${n}`, '...'],
    stdout: fixture('multipass', 'launch.stdout').replace('isb-nodes-1', `isb-nodes-${n}`),
    delayMs,
  }));
const joinOk: FakeRule = {
  args: ['exec', '*', '--', 'sudo', '/usr/local/sbin/isb-k3s-join', '...'],
  stdout: fixture('multipass', 'exec-k3s-join.stdout'),
};
const deleteOk: FakeRule = { args: ['delete', '--purge', '...'] };

interface World {
  fake: FakeBin;
  ctx: SandboxContext;
  root: string;
  inventory: string;
}

function world(opts: { configYaml?: string; name?: string; sshKey?: string | null } = {}): World {
  const root = tempDir('mp-ws');
  const home = tempDir('mp-home');
  if (opts.sshKey !== null) {
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519.pub'), `${opts.sshKey ?? SSH_KEY}\n`);
  }
  const text = opts.configYaml ?? CONFIG_YAML;
  const configFile = join(root, 'infra-sandbox.yaml');
  writeFileSync(configFile, text);
  const config = parseYaml(text) as WorkspaceConfig;
  const fake = new FakeBin();
  const name = opts.name ?? 'nodes';
  return {
    fake,
    root,
    inventory: multipassInventoryPath(root, name),
    ctx: { root, configFile, config, name, env: { PATH: fake.dir, HOME: home } },
  };
}

/** Calls that may run in parallel compare as a set, in their place in the sequence. */
function assertSequence(actual: string[][], expected: (string[] | string[][])[]): void {
  let i = 0;
  for (const step of expected) {
    if (Array.isArray(step[0])) {
      const group = step as string[][];
      const got = actual.slice(i, i + group.length).map((a) => JSON.stringify(a));
      assert.deepEqual(got.sort(), group.map((g) => JSON.stringify(g)).sort(), `calls ${i}…${i + group.length - 1}`);
      i += group.length;
    } else {
      assert.deepEqual(actual[i], step, `call ${i}`);
      i++;
    }
  }
  assert.equal(actual.length, i, `${actual.length} calls: ${JSON.stringify(actual)}`);
}

describe('multipass client: argv builders and parsers (no process)', () => {
  it('builds launch, list, info, start, stop, delete and exec', () => {
    const argv = (s: { command: string; args: readonly string[] }) => [s.command, ...s.args];
    assert.deepEqual(
      argv(multipassLaunch({ image: '24.04', name: 'isb-nodes-1', cpus: 2, memory: '2G', disk: '10G', timeout: 900 })),
      launch(1),
    );
    assert.deepEqual(argv(multipassList()), LIST);
    assert.deepEqual(argv(multipassInfo(['isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'])), INFO);
    assert.deepEqual(argv(multipassStart(['isb-nodes-1', 'isb-nodes-2'])), [
      'multipass',
      'start',
      'isb-nodes-1',
      'isb-nodes-2',
    ]);
    assert.deepEqual(argv(multipassStop(['isb-nodes-1'])), ['multipass', 'stop', 'isb-nodes-1']);
    assert.deepEqual(argv(multipassDelete(['isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'])), DELETE_ALL);
    assert.deepEqual(argv(multipassExec('isb-nodes-2', ['sudo', 'true'])), [
      'multipass',
      'exec',
      'isb-nodes-2',
      '--',
      'sudo',
      'true',
    ]);
  });

  it('reads list and info in the released and the 2026 (zones) shapes', () => {
    const released = parseMultipassList(fixture('multipass', 'list-running.json'));
    const main = parseMultipassList(fixture('multipass', 'list-running-main-2026.json'));
    assert.deepEqual(released[0], {
      name: 'isb-nodes-1',
      state: 'Running',
      ipv4: ['10.21.124.56', '10.42.0.0', '10.42.0.1'],
      release: 'Ubuntu 24.04 LTS',
    });
    assert.deepEqual(
      main.map((i) => [i.name, i.state, i.ipv4]),
      [
        ['isb-nodes-1', 'Running', ['10.21.124.56']],
        ['isb-nodes-2', 'Running', ['10.21.124.57']],
        ['isb-nodes-3', 'Running', ['10.21.124.58']],
        ['primary', 'Stopped', []],
      ],
    );
    const nodes = parseMultipassInfo(fixture('multipass', 'info-launched.json'));
    assert.deepEqual(nodes['isb-nodes-1'], {
      state: 'Running',
      ipv4: ['10.21.124.56', '10.42.0.0', '10.42.0.1'],
      release: 'Ubuntu 24.04.2 LTS',
      imageRelease: '24.04 LTS',
      cpus: 2,
      memoryTotal: 2012606464,
    });
    const starting = parseMultipassInfo(fixture('multipass', 'info-no-address.json'))['isb-nodes-2'];
    assert.deepEqual(
      [starting.state, starting.ipv4, starting.cpus, starting.memoryTotal],
      ['Starting', [], undefined, undefined],
    );
    assert.throws(() => parseMultipassList('list failed: cannot connect to the multipass socket'), /not JSON/);
  });

  it('knows its own nodes by name, and multipass states as member states', () => {
    assert.equal(multipassNodeIndex('nodes', 'isb-nodes-3'), 3);
    assert.equal(multipassNodeIndex('nodes', 'isb-nodes-2-1'), undefined, 'a node of sandbox "nodes-2"');
    assert.equal(multipassNodeIndex('nodes', 'primary'), undefined);
    assert.equal(multipassNodeIndex('nodes', 'isb-nodes-0'), undefined);
    assert.deepEqual(
      ['Running', 'RUNNING', 'Stopped', 'Suspended', 'Starting', 'Delayed Shutdown', 'Deleted', 'Unknown'].map(
        multipassMemberState,
      ),
      ['running', 'running', 'stopped', 'stopped', 'starting', 'running', 'missing', 'unknown'],
    );
  });

  it('renders the inventory with the production group names', () => {
    const text = renderInventory({
      sandbox: 'nodes',
      template: 'multipass/three-node',
      user: 'ubuntu',
      nodes: [
        { index: 1, name: 'isb-nodes-1', address: '10.21.124.56' },
        { index: 2, name: 'isb-nodes-2', address: '10.21.124.57' },
        { index: 3, name: 'isb-nodes-3', address: '10.21.124.58' },
      ],
      groups: { k3s_server: [1], k3s_agents: [3, 2], pi2: [2] },
    });
    assert.equal(text, expectedInventory());
  });
});

describe('multipass provider against a fake multipass', () => {
  it('up: launches every node in parallel from its cloud-init, guards the addresses, writes the inventory, joins the agents', async () => {
    const w = world();
    w.fake.tool('multipass', [list('empty', [1]), list('running'), ...launchOk(800), info(), joinOk, deleteOk]);
    const logged: string[] = [];
    const result = await new MultipassProvider().up({ ...w.ctx, log: (l) => logged.push(l) });

    assertSequence(w.fake.argvs(), [LIST, [launch(1), launch(2), launch(3)], INFO, [join_(2), join_(3)], LIST]);

    // In parallel: every launch started before the first one (800 ms) could have finished.
    const starts = w.fake
      .calls()
      .filter((c) => c.argv[0] === 'launch')
      .map((c) => c.startedAt);
    assert.ok(Math.max(...starts) - Math.min(...starts) < 800, `launch starts ${starts.join(', ')}`);

    // Each node's cloud-init went in on stdin, placeholders filled, one token for all.
    const stdin = (n: number) => w.fake.calls().find((c) => c.argv[3] === `isb-nodes-${n}`)?.stdin ?? '';
    const server = stdin(1);
    assert.match(server, /^#cloud-config\n/);
    assert.doesNotMatch(server + stdin(2) + stdin(3), /\{\{\s*[A-Za-z_]/, 'every placeholder is filled');
    const serverDoc = parseYaml(server) as {
      ssh_authorized_keys: string[];
      runcmd: string[][];
      write_files: { content: string }[];
    };
    assert.deepEqual(serverDoc.ssh_authorized_keys, [SSH_KEY]);
    assert.match(serverDoc.runcmd[0][2], /INSTALL_K3S_VERSION='v1\.34\.9\+k3s1' sh -s - server$/);
    const token = /token: "([0-9a-f]{48})"/.exec(serverDoc.write_files[0].content)?.[1];
    assert.ok(token, 'the server gets a random cluster token');
    for (const n of [2, 3]) {
      const agent = parseYaml(stdin(n)) as { ssh_authorized_keys: string[]; write_files: { content: string }[] };
      assert.deepEqual(agent.ssh_authorized_keys, [SSH_KEY]);
      assert.match(agent.write_files[0].content, new RegExp(`K3S_TOKEN='${token}' sh -s - agent`));
    }
    assert.ok(logged.includes('[isb-nodes-2] Launched: isb-nodes-2'));

    assert.equal(readFileSync(w.inventory, 'utf8'), expectedInventory());
    assert.equal(w.inventory, join(w.root, '.infra-sandbox', 'inventory', 'nodes.ini'));
    // The guard's own inventory reader sees the three nodes, all outside production.
    const { verdict, problems } = await guardTargets(
      { inventories: [w.inventory] },
      { cwd: w.root, env: {}, config: w.ctx.config, inventoryParser: 'builtin' },
    );
    assert.deepEqual(problems, []);
    assert.equal(verdict.verdict, 'allow');
    assert.deepEqual(verdict.targets.map((t) => t.addresses[0]).sort(), [
      '10.21.124.56',
      '10.21.124.57',
      '10.21.124.58',
    ]);

    assert.equal(result.status.state, 'running');
    assert.deepEqual(
      result.status.members.map((m) => [m.name, m.role, m.state, m.addresses[0]]),
      [
        ['isb-nodes-1', 'k3s-server', 'running', '10.21.124.56'],
        ['isb-nodes-2', 'k3s-agent', 'running', '10.21.124.57'],
        ['isb-nodes-3', 'k3s-agent', 'running', '10.21.124.58'],
      ],
    );
    assert.deepEqual(result.status.artifacts, { inventory: w.inventory });
    assert.ok(result.timeToReadyMs >= 800, `time to ready ${result.timeToReadyMs} ms`);
  });

  it('status reads the real state: running, stopped, degraded, absent (and the 2026 list shape)', async () => {
    const w = world();
    const shapes = ['running', 'stopped', 'degraded', 'other', 'deleted', 'running-main-2026', 'incomplete'];
    w.fake.tool(
      'multipass',
      shapes.map((s, i) => list(s, [i + 1])),
    );
    const provider = new MultipassProvider();
    const seen = [];
    for (const _ of shapes) {
      const s = await provider.status(w.ctx);
      seen.push([s.state, s.members.map((m) => m.state).join(',')]);
    }
    assert.deepEqual(seen, [
      ['running', 'running,running,running'],
      ['stopped', 'stopped,stopped,stopped'],
      ['degraded', 'running,stopped,running'],
      ['absent', ''],
      ['absent', ''],
      ['running', 'running,running,running'],
      ['degraded', 'running,running,missing'],
    ]);
    assert.deepEqual(
      w.fake.argvs(),
      shapes.map(() => LIST),
    );
  });

  it('a production address in `multipass info` → exit 3, every node deleted, no inventory, nothing run in the nodes', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('empty', [1]),
      list('launched'),
      ...launchOk(),
      info('production'),
      joinOk,
      deleteOk,
    ]);
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.blocked);
      const lines = err.message.split('\n');
      assert.equal(lines[0], 'sandbox "nodes" refused: node addresses are production.');
      assert.equal(lines[1], '  isb-nodes-2 ansible_host=192.168.1.23 → 192.168.1.23 ∈ 192.168.1.0/24 production');
      assert.equal(
        lines.at(-1),
        'Nothing was left behind: the nodes were deleted (multipass delete --purge isb-nodes-1 isb-nodes-2 isb-nodes-3) and no inventory was written.',
      );
      return true;
    });
    assertSequence(w.fake.argvs(), [LIST, [launch(1), launch(2), launch(3)], INFO, LIST, DELETE_ALL]);
    assert.equal(existsSync(w.inventory), false);
  });

  it('a launch that fails midway (cloud-init timeout) → multipass’s own lines, every node deleted, the timed-out one too', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('empty', [1]),
      list('after-launch-timeout'),
      ...launchOk().slice(0, 2),
      {
        args: ['launch', '24.04', '--name', 'isb-nodes-3', '...'],
        stderr: fixture('multipass', 'launch-timeout.stderr'),
        exitCode: 2,
        delayMs: 100,
      },
      deleteOk,
    ]);
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.equal(
        err.message,
        [
          'multipass could not launch sandbox "nodes": 1 of 3 nodes failed.',
          '  isb-nodes-3: multipass launch exited with code 2:',
          '    launch failed: The following errors occurred:',
          '    timed out waiting for initialization to complete',
          'Nothing was left behind: the nodes were deleted (multipass delete --purge isb-nodes-1 isb-nodes-2 isb-nodes-3) and no inventory was written.',
        ].join('\n'),
      );
      return true;
    });
    assertSequence(w.fake.argvs(), [LIST, [launch(1), launch(2), launch(3)], LIST, DELETE_ALL]);
    assert.equal(existsSync(w.inventory), false);
  });

  it('a node whose launch never created a VM is not named in the cleanup', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('empty', [1]),
      list('after-launch-failure'),
      launchOk()[0],
      launchOk()[2],
      {
        args: ['launch', '24.04', '--name', 'isb-nodes-2', '...'],
        stderr: fixture('multipass', 'launch-image-failure.stderr'),
        exitCode: 2,
      },
      deleteOk,
    ]);
    await assert.rejects(
      new MultipassProvider().up(w.ctx),
      /isb-nodes-2: multipass launch exited with code 2:\n {4}launch failed: Unable to find an image/,
    );
    assertSequence(w.fake.argvs(), [
      LIST,
      [launch(1), launch(2), launch(3)],
      LIST,
      ['multipass', 'delete', '--purge', 'isb-nodes-1', 'isb-nodes-3'],
    ]);
  });

  it('cancelled while the nodes launch → the nodes are deleted and the error is a cancellation', async () => {
    const w = world();
    w.fake.tool('multipass', [list('empty', [1]), list('launched'), ...launchOk(20_000), deleteOk]);
    const abort = new AbortController();
    const pending = new MultipassProvider().up({ ...w.ctx, signal: abort.signal });
    setTimeout(() => abort.abort(), 400);
    await assert.rejects(
      pending,
      (err: unknown) =>
        err instanceof CancelledError && err.exitCode === ExitCode.cancelled && /nodes were deleted/.test(err.message),
    );
    assertSequence(w.fake.argvs(), [LIST, [launch(1), launch(2), launch(3)], LIST, DELETE_ALL]);
  });

  it('an afterLaunch step that fails → the nodes are deleted and the inventory removed', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('empty', [1]),
      list('launched'),
      ...launchOk(),
      info(),
      {
        args: ['exec', 'isb-nodes-3', '--', '...'],
        stdout: '[INFO]  Using v1.34.9+k3s1 as release\n',
        stderr: '[ERROR]  Download failed\n',
        exitCode: 1,
      },
      joinOk,
      deleteOk,
    ]);
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.match(
        err.message,
        /^the template's afterLaunch step \(.*three-node\/multipass\.yaml:\d+:\d+\) failed:\n {2}isb-nodes-3: multipass exec exited with code 1:\n {4}\[ERROR\] {2}Download failed\n/,
      );
      assert.match(
        err.message,
        /the nodes were deleted \(multipass delete --purge isb-nodes-1 isb-nodes-2 isb-nodes-3\)/,
      );
      return true;
    });
    assertSequence(w.fake.argvs(), [
      LIST,
      [launch(1), launch(2), launch(3)],
      INFO,
      [join_(2), join_(3)],
      LIST,
      DELETE_ALL,
    ]);
    assert.equal(existsSync(w.inventory), false);
  });

  it('a node without an address fails closed: nothing written, the new nodes deleted', async () => {
    const w = world();
    w.fake.tool('multipass', [list('empty', [1]), list('launched'), ...launchOk(), info('no-address'), deleteOk]);
    await assert.rejects(new MultipassProvider().up(w.ctx), /node isb-nodes-2 has no IPv4 address \(state: Starting\)/);
    assertSequence(w.fake.argvs(), [LIST, [launch(1), launch(2), launch(3)], INFO, LIST, DELETE_ALL]);
    assert.equal(existsSync(w.inventory), false);
  });

  it('stop, start and destroy send the exact argv; start rewrites the inventory, destroy removes it', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('running', [1]),
      list('stopped', [2, 3]),
      list('launched', [4, 5]),
      { args: ['stop', '...'] },
      { args: ['start', '...'] },
      info(),
      deleteOk,
    ]);
    const provider = new MultipassProvider();
    assert.equal((await provider.stop(w.ctx)).state, 'stopped');
    const started = await provider.start(w.ctx);
    assert.equal(started.status.state, 'running');
    assert.equal(readFileSync(w.inventory, 'utf8'), expectedInventory());
    assert.equal(statSync(w.inventory).mode & 0o777, 0o644);
    await provider.destroy(w.ctx);
    assert.deepEqual(w.fake.argvs(), [
      LIST,
      ['multipass', 'stop', 'isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'],
      LIST,
      LIST,
      ['multipass', 'start', 'isb-nodes-1', 'isb-nodes-2', 'isb-nodes-3'],
      INFO,
      LIST,
      LIST,
      DELETE_ALL,
    ]);
    assert.equal(existsSync(w.inventory), false);
  });

  it('up on existing nodes starts the stopped ones and runs nothing in them', async () => {
    const w = world();
    w.fake.tool('multipass', [list('degraded', [1]), list('launched'), { args: ['start', '...'] }, info(), joinOk]);
    const result = await new MultipassProvider().up(w.ctx);
    assert.deepEqual(w.fake.argvs(), [LIST, ['multipass', 'start', 'isb-nodes-2'], INFO, LIST]);
    assert.equal(result.status.state, 'running');
  });

  it('up over deleted-but-not-purged leftovers purges them before launching', async () => {
    const w = world();
    w.fake.tool('multipass', [list('deleted', [1]), list('launched'), deleteOk, ...launchOk(), info(), joinOk]);
    await new MultipassProvider().up(w.ctx);
    assertSequence(w.fake.argvs(), [
      LIST,
      DELETE_ALL,
      [launch(1), launch(2), launch(3)],
      INFO,
      [join_(2), join_(3)],
      LIST,
    ]);
  });

  it('an incomplete sandbox is not half-repaired: exit 2 with what to do', async () => {
    const w = world();
    w.fake.tool('multipass', [list('incomplete')]);
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.match(
        err.message,
        /isb-nodes-3 does not exist\. Recreate it: `infra-sandbox sandbox destroy nodes`, then `up`/,
      );
      return true;
    });
    assert.deepEqual(w.fake.argvs(), [LIST]);
  });

  it('multipass missing → exit 4 naming it and how to install it', async () => {
    const w = world();
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.toolMissing);
      assert.match(
        err.message,
        /^multipass is not installed or not on PATH\. Install Multipass: `snap install multipass`/,
      );
      return true;
    });
  });

  it('no SSH public key → exit 2 with the ssh-keygen line, no VM launched', async () => {
    const w = world({ sshKey: null });
    w.fake.tool('multipass', [list('empty'), ...launchOk()]);
    await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.match(
        err.message,
        /^no SSH public key at .*\/\.ssh\/id_ed25519\.pub \(sshPublicKey, .*multipass\.yaml:\d+:\d+\).*ssh-keygen -t ed25519/,
      );
      return true;
    });
    assert.deepEqual(w.fake.argvs(), [LIST]);
  });

  it('bad templates and group mappings → exit 2 with file:line, nothing run', async () => {
    const dir = (w: World) => join(w.root, 'sandboxes', 'vms');
    const setup = (groups = '{ k3s_server: [1] }') => {
      const w = world({
        configYaml: `version: 1\nproduction:\n  networks: [192.168.1.0/24]\nsandboxes:\n  nodes:\n    provider: multipass\n    template: ./sandboxes/vms\n    groups:\n      k3s_server: [1]\n      spare: ${groups}\n`,
      });
      mkdirSync(dir(w), { recursive: true });
      writeFileSync(
        join(dir(w), 'node.yaml'),
        '#cloud-config\npackages: [python3]\nssh_authorized_keys:\n  - "{{SSH_PUBLIC_KEY}}"\n',
      );
      w.fake.tool('multipass', [list('empty'), ...launchOk()]);
      return w;
    };
    const rejects = async (w: World, pattern: RegExp) => {
      await assert.rejects(new MultipassProvider().up(w.ctx), (err: unknown) => {
        assert.ok(err instanceof InfraSandboxError, String(err));
        assert.equal(err.exitCode, ExitCode.usage);
        assert.match(err.message, pattern);
        return true;
      });
      assert.deepEqual(w.fake.argvs(), []);
    };

    let w = setup('[2]');
    writeFileSync(join(dir(w), 'multipass.yaml'), 'image: "24.04"\nnodez:\n  - cloudInit: node.yaml\n');
    await rejects(w, new RegExp(`^${escape(join(dir(w), 'multipass.yaml'))}:2:1: error nodez: unknown key`));

    w = setup('[2]');
    writeFileSync(
      join(dir(w), 'multipass.yaml'),
      'image: "24.04"\nnodes:\n  - cloudInit: node.yaml\n    memory: lots\n',
    );
    await rejects(w, /multipass\.yaml:4:13: error nodes\[0\]\.memory: "lots" is not a size/);

    w = setup('[2]');
    writeFileSync(join(dir(w), 'multipass.yaml'), 'nodes:\n  - cloudInit: node.yaml\n  - cloudInit: missing.yaml\n');
    await rejects(w, /multipass\.yaml:3:16: error nodes\[1\]\.cloudInit: .*missing\.yaml not found/);

    w = setup('[2]');
    writeFileSync(join(dir(w), 'multipass.yaml'), 'nodes:\n  - cloudInit: node.yaml\n');
    writeFileSync(join(dir(w), 'node.yaml'), '#cloud-config\nruncmd:\n  - [sh, -c, "echo {{K3S_VERSON}}"]\n');
    await rejects(
      w,
      new RegExp(`^${escape(join(dir(w), 'node.yaml'))}:3:20: error unknown placeholder \\{\\{K3S_VERSON\\}\\}`),
    );

    w = setup('[2]');
    writeFileSync(
      join(dir(w), 'multipass.yaml'),
      'nodes:\n  - cloudInit: node.yaml\nafterLaunch:\n  - nodes: [2]\n    run: [true]\n',
    );
    await rejects(w, /multipass\.yaml:4:13: error afterLaunch\[0\]\.nodes: 2 is not a node number 1…1/);

    w = setup('[2, 4]');
    writeFileSync(
      join(dir(w), 'multipass.yaml'),
      'nodes:\n  - cloudInit: node.yaml\n  - cloudInit: node.yaml\n  - cloudInit: node.yaml\n',
    );
    await rejects(
      w,
      new RegExp(
        `^${escape(w.ctx.configFile)}:10:14: error sandboxes\\.nodes\\.groups\\.spare: node 4 does not exist: the template has 3 nodes`,
      ),
    );
  });

  it('an invalid sandbox name → exit 2, nothing run', async () => {
    for (const name of ['Nodes', 'nodes_1', 'x'.repeat(58)]) {
      const w = world({
        name,
        configYaml: `version: 1\nsandboxes:\n  ${name}:\n    provider: multipass\n    template: multipass/three-node\n`,
      });
      w.fake.tool('multipass', [list('empty'), ...launchOk()]);
      await assert.rejects(
        new MultipassProvider().up(w.ctx),
        (err: unknown) =>
          err instanceof InfraSandboxError &&
          err.exitCode === ExitCode.usage &&
          /^invalid sandbox name/.test(err.message),
      );
      assert.deepEqual(w.fake.argvs(), []);
    }
  });

  it('the shell is `multipass shell NODE`; logs are each node’s journal', async () => {
    const w = world();
    w.fake.tool('multipass', [
      list('running'),
      {
        args: ['exec', 'isb-nodes-1', '--', 'sudo', 'journalctl', '--no-pager', '-n', '50'],
        stdout: fixture('multipass', 'journal-node-1.txt'),
      },
    ]);
    const provider = new MultipassProvider();
    assert.deepEqual(await provider.shellCommand(w.ctx), ['multipass', 'shell', 'isb-nodes-1']);
    assert.deepEqual(await provider.shellCommand(w.ctx, 'isb-nodes-3'), ['multipass', 'shell', 'isb-nodes-3']);
    await assert.rejects(provider.shellCommand(w.ctx, 'primary'), /is not a node of sandbox "nodes"/);
    const lines: string[] = [];
    for await (const line of provider.logs(w.ctx, { member: 'isb-nodes-1', tail: 50 })) lines.push(line);
    assert.equal(lines.length, 4);
    assert.match(lines[2], /k3s is up and running/);
  });

  it('the shipped template renders valid cloud-init for every node', async () => {
    const { loadMultipassTemplate, renderCloudInit } = await import('../../src/core/sandbox/multipassTemplate');
    const t = await loadMultipassTemplate(join(builtinTemplatesDir({}), 'multipass', 'three-node'));
    assert.deepEqual(
      t.nodes.map((n) => [n.index, n.role, n.cpus, n.memory, n.disk]),
      [
        [1, 'k3s-server', 2, '2G', '10G'],
        [2, 'k3s-agent', 1, '1536M', '8G'],
        [3, 'k3s-agent', 1, '1536M', '8G'],
      ],
    );
    assert.equal(t.vars.K3S_VERSION, 'v1.34.9+k3s1');
    for (const node of t.nodes) {
      const text = renderCloudInit(node, {
        ...t.vars,
        SANDBOX: 'nodes',
        NODE_INDEX: String(node.index),
        NODE_NAME: `isb-nodes-${node.index}`,
        USER: t.user,
        SSH_PUBLIC_KEY: SSH_KEY,
        CLUSTER_TOKEN: 'f'.repeat(48),
      });
      const doc = parseYaml(text) as { packages: string[] };
      assert.ok(doc.packages.includes('python3'));
    }
  });
});

function expectedInventory(): string {
  return `# Generated by Infra Sandbox for sandbox "nodes" (multipass, template multipass/three-node).
# Rewritten by \`infra-sandbox sandbox up|start nodes\`: edits are lost. Group names mirror
# production (infra-sandbox.yaml sandboxes.nodes.groups); the guard checked every address below.

isb-nodes-1 ansible_host=10.21.124.56
isb-nodes-2 ansible_host=10.21.124.57
isb-nodes-3 ansible_host=10.21.124.58

[k3s_server]
isb-nodes-1

[k3s_agents]
isb-nodes-2
isb-nodes-3

[pi2]
isb-nodes-2

[all:vars]
ansible_user=ubuntu
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
