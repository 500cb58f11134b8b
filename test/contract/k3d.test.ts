/**
 * Contract tests for the k3d provider (SPEC §7, §11): a fake `k3d` (and `docker`) first on PATH
 * records its argv and replays k3d's own output formats (test/fixtures/k3d/README.md says where each
 * comes from). The argv is the contract and is asserted exactly.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../src/core/config/types';
import { CancelledError, InfraSandboxError } from '../../src/core/exec';
import { ExitCode } from '../../src/core/exitCodes';
import { K3dProvider, k3dKubeconfigPath } from '../../src/core/sandbox/k3d';
import {
  dockerLogs,
  k3dClusterCreate,
  k3dClusterDelete,
  k3dClusterList,
  k3dClusterStart,
  k3dClusterStop,
  k3dKubeconfigGet,
  k3dSandboxState,
  parseK3dClusterList,
} from '../../src/core/sandbox/k3dCli';
import { builtinTemplatesDir } from '../../src/core/sandbox/templates';
import type { SandboxContext } from '../../src/core/sandbox/types';
import { FakeBin, fixture, type FakeRule } from '../helpers/fakeTool';
import { tempDir } from '../helpers/tmp';

const TEMPLATE = join(builtinTemplatesDir({}), 'k3d', 'fast', 'k3d.yaml');
const CREATE = [
  'k3d',
  'cluster',
  'create',
  'isb-lab',
  '--config',
  TEMPLATE,
  '--kubeconfig-update-default=false',
  '--kubeconfig-switch-context=false',
  '--wait',
  '--timeout',
  '180s',
];
const LIST = ['k3d', 'cluster', 'list', '-o', 'json'];
const KUBECONFIG_GET = ['k3d', 'kubeconfig', 'get', 'isb-lab'];
const DELETE = ['k3d', 'cluster', 'delete', 'isb-lab'];

const list = (name: string, calls?: number[]): FakeRule => ({
  args: ['cluster', 'list', '-o', 'json'],
  stdout: fixture('k3d', `cluster-list-${name}.json`),
  calls,
});
const kubeconfigGet = (file = 'kubeconfig-isb-lab.yaml'): FakeRule => ({
  args: ['kubeconfig', 'get', 'isb-lab'],
  stdout: fixture('k3d', file),
});
const create: FakeRule = {
  args: ['cluster', 'create', 'isb-lab', '...'],
  stdout: fixture('k3d', 'cluster-create.stdout'),
};
const deleteOk: FakeRule = { args: ['cluster', 'delete', 'isb-lab'], stdout: fixture('k3d', 'cluster-delete.stdout') };

const USER_KUBECONFIG =
  'apiVersion: v1\nkind: Config\ncurrent-context: corp-prod\nclusters: []\ncontexts: []\nusers: []\n';

interface World {
  fake: FakeBin;
  ctx: SandboxContext;
  home: string;
  root: string;
  kubeconfig: string;
}

function world(overrides: { config?: Partial<WorkspaceConfig>; name?: string; env?: NodeJS.ProcessEnv } = {}): World {
  const root = tempDir('k3d-ws');
  const home = tempDir('k3d-home');
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), USER_KUBECONFIG);
  const config: WorkspaceConfig = {
    version: 1,
    production: { networks: ['192.168.1.0/24'], kubeContexts: ['corp-prod'] },
    sandbox: { networks: ['127.0.0.0/8', '172.16.0.0/12'] },
    sandboxes: { lab: { provider: 'k3d', template: 'k3d/fast' } },
    ...overrides.config,
  };
  const configFile = join(root, 'infra-sandbox.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const fake = new FakeBin();
  const name = overrides.name ?? 'lab';
  const ctx: SandboxContext = {
    root,
    configFile,
    config,
    name,
    env: { PATH: fake.dir, HOME: home, ...overrides.env },
  };
  return { fake, ctx, home, root, kubeconfig: k3dKubeconfigPath(root, name) };
}

function k3dRules(fake: FakeBin, rules: FakeRule[]): void {
  fake.tool('k3d', rules, { recordEnv: ['KUBECONFIG'] });
}

function assertUserKubeconfigUntouched(w: World, before: { mtimeMs: number }): void {
  const file = join(w.home, '.kube', 'config');
  assert.equal(readFileSync(file, 'utf8'), USER_KUBECONFIG);
  assert.equal(statSync(file).mtimeMs, before.mtimeMs);
}

describe('k3d client: argv builders (no process)', () => {
  it('builds the SPEC §7 create command and the lifecycle commands', () => {
    const spec = k3dClusterCreate('lab', { configFile: '/t/k3d.yaml', timeout: '120s' });
    assert.deepEqual(
      [spec.command, ...spec.args],
      [
        'k3d',
        'cluster',
        'create',
        'isb-lab',
        '--config',
        '/t/k3d.yaml',
        '--kubeconfig-update-default=false',
        '--kubeconfig-switch-context=false',
        '--wait',
        '--timeout',
        '120s',
      ],
    );
    const argv = (s: { command: string; args: readonly string[] }) => [s.command, ...s.args];
    assert.deepEqual(argv(k3dClusterList()), LIST);
    assert.deepEqual(argv(k3dClusterDelete('lab')), DELETE);
    assert.deepEqual(argv(k3dClusterStop('lab')), ['k3d', 'cluster', 'stop', 'isb-lab']);
    assert.deepEqual(argv(k3dClusterStart('lab', '90s')), [
      'k3d',
      'cluster',
      'start',
      'isb-lab',
      '--wait',
      '--timeout',
      '90s',
    ]);
    assert.deepEqual(argv(k3dKubeconfigGet('lab')), KUBECONFIG_GET);
    assert.deepEqual(argv(dockerLogs('k3d-isb-lab-server-0', { tail: 50, follow: true })), [
      'docker',
      'logs',
      '--tail',
      '50',
      '--follow',
      'k3d-isb-lab-server-0',
    ]);
  });
});

describe('k3d client: parsing `k3d cluster list -o json`', () => {
  it('reads clusters, counts and nodes', () => {
    const clusters = parseK3dClusterList(fixture('k3d', 'cluster-list-running.json'));
    assert.deepEqual(
      clusters.map((c) => c.name),
      ['isb-lab', 'k3s-default'],
    );
    const lab = clusters[0];
    assert.equal(lab.serversRunning, 1);
    assert.equal(lab.serversCount, 1);
    assert.equal(lab.agentsCount, 0);
    assert.equal(lab.hasLoadbalancer, false);
    assert.equal(lab.network, 'k3d-isb-lab');
    assert.deepEqual(lab.nodes, [
      {
        name: 'k3d-isb-lab-server-0',
        role: 'server',
        image: 'docker.io/rancher/k3s:v1.34.9-k3s1',
        running: true,
        status: 'running',
        ip: '172.18.0.2',
        ports: ['127.0.0.1:41223->6443/tcp'],
      },
    ]);
    assert.equal(clusters[1].hasLoadbalancer, true);
  });

  it('maps running, stopped, degraded and absent to sandbox states', () => {
    const state = (file: string) =>
      k3dSandboxState(parseK3dClusterList(fixture('k3d', file)).find((c) => c.name === 'isb-lab'));
    const running = state('cluster-list-running.json');
    assert.equal(running.state, 'running');
    assert.deepEqual(
      running.members.map((m) => [m.name, m.role, m.state, m.addresses, m.ports]),
      [['k3d-isb-lab-server-0', 'server', 'running', ['172.18.0.2'], ['127.0.0.1:41223->6443/tcp']]],
    );
    assert.match(running.detail ?? '', /rancher\/k3s:v1\.34\.9-k3s1/);

    const stopped = state('cluster-list-stopped.json');
    assert.equal(stopped.state, 'stopped');
    assert.deepEqual(
      stopped.members.map((m) => [m.state, m.addresses]),
      [['exited', []]],
    );

    const degraded = state('cluster-list-degraded.json');
    assert.equal(degraded.state, 'degraded');
    assert.deepEqual(
      degraded.members.map((m) => `${m.name}:${m.state}`),
      ['k3d-isb-lab-server-0:running', 'k3d-isb-lab-agent-0:running', 'k3d-isb-lab-agent-1:exited'],
    );
    assert.match(degraded.detail ?? '', /agents 1\/2/);

    assert.equal(state('cluster-list-other.json').state, 'absent');
    assert.equal(state('cluster-list-empty.json').state, 'absent');
  });

  it('says clearly when k3d prints something that is not JSON', () => {
    assert.throws(
      () => parseK3dClusterList('FATA[0000] runtime failed to list nodes'),
      (err: unknown) => err instanceof InfraSandboxError && /not JSON/.test(err.message),
    );
  });
});

describe('k3d provider against a fake k3d', () => {
  it('up: creates the cluster with the exact argv and writes an isolated kubeconfig (0600)', async () => {
    const w = world();
    const before = statSync(join(w.home, '.kube', 'config'));
    k3dRules(w.fake, [list('other', [1]), list('running'), create, kubeconfigGet()]);
    const result = await new K3dProvider().up(w.ctx);

    assert.deepEqual(w.fake.argvs(), [LIST, CREATE, KUBECONFIG_GET, LIST]);
    // Every k3d call sees the sandbox's own kubeconfig as "the default", never ~/.kube/config.
    for (const call of w.fake.calls('k3d')) assert.equal(call.env.KUBECONFIG, w.kubeconfig);

    assert.equal(w.kubeconfig, join(w.root, '.infra-sandbox', 'kube', 'lab.yaml'));
    assert.equal(readFileSync(w.kubeconfig, 'utf8'), fixture('k3d', 'kubeconfig-isb-lab.yaml'));
    assert.equal(statSync(w.kubeconfig).mode & 0o777, 0o600);
    assert.deepEqual(
      readFileSync(w.kubeconfig, 'utf8')
        .split('\n')
        .filter((l) => l.includes('server:')),
      ['    server: https://127.0.0.1:41223'],
    );
    assertUserKubeconfigUntouched(w, before);

    assert.equal(result.status.state, 'running');
    assert.equal(result.status.provider, 'k3d');
    assert.deepEqual(result.status.artifacts, { kubeconfig: w.kubeconfig });
    assert.deepEqual(
      result.status.members.map((m) => m.name),
      ['k3d-isb-lab-server-0'],
    );
    assert.ok(Number.isInteger(result.timeToReadyMs) && result.timeToReadyMs >= 0);
  });

  it('up: time-to-ready covers the wait for the cluster', async () => {
    const w = world();
    k3dRules(w.fake, [list('empty', [1]), list('running'), { ...create, delayMs: 300 }, kubeconfigGet()]);
    const result = await new K3dProvider().up(w.ctx);
    assert.ok(result.timeToReadyMs >= 300, `time to ready ${result.timeToReadyMs} ms`);
  });

  it('up on a stopped cluster starts it instead of creating one', async () => {
    const w = world();
    k3dRules(w.fake, [
      list('stopped', [1]),
      list('running'),
      { args: ['cluster', 'start', 'isb-lab', '...'], stdout: fixture('k3d', 'cluster-start.stdout') },
      kubeconfigGet(),
    ]);
    const result = await new K3dProvider().up(w.ctx);
    assert.deepEqual(w.fake.argvs(), [
      LIST,
      ['k3d', 'cluster', 'start', 'isb-lab', '--wait', '--timeout', '180s'],
      KUBECONFIG_GET,
      LIST,
    ]);
    assert.equal(result.status.state, 'running');
  });

  it('status reads the real state every time: running, stopped, degraded, absent', async () => {
    const w = world();
    k3dRules(w.fake, [list('running', [1]), list('stopped', [2]), list('degraded', [3]), list('other', [4])]);
    const provider = new K3dProvider();
    const states = [];
    for (let i = 0; i < 4; i++) states.push((await provider.status(w.ctx)).state);
    assert.deepEqual(states, ['running', 'stopped', 'degraded', 'absent']);
    assert.deepEqual(w.fake.argvs(), [LIST, LIST, LIST, LIST]);
  });

  it('stop, start and destroy send the exact argv; destroy removes the kubeconfig', async () => {
    const w = world();
    mkdirSync(join(w.root, '.infra-sandbox', 'kube'), { recursive: true });
    writeFileSync(w.kubeconfig, fixture('k3d', 'kubeconfig-isb-lab.yaml'), { mode: 0o600 });
    const before = statSync(join(w.home, '.kube', 'config'));
    k3dRules(w.fake, [
      list('running', [1]),
      list('stopped', [2, 3]),
      list('running'),
      { args: ['cluster', 'stop', 'isb-lab'], stdout: fixture('k3d', 'cluster-stop.stdout') },
      { args: ['cluster', 'start', 'isb-lab', '...'], stdout: fixture('k3d', 'cluster-start.stdout') },
      kubeconfigGet(),
      deleteOk,
    ]);
    const provider = new K3dProvider();
    const stopped = await provider.stop(w.ctx);
    assert.equal(stopped.state, 'stopped');
    const started = await provider.start(w.ctx);
    assert.equal(started.status.state, 'running');
    await provider.destroy(w.ctx);
    assert.deepEqual(w.fake.argvs(), [
      LIST,
      ['k3d', 'cluster', 'stop', 'isb-lab'],
      LIST,
      LIST,
      ['k3d', 'cluster', 'start', 'isb-lab', '--wait', '--timeout', '180s'],
      KUBECONFIG_GET,
      LIST,
      DELETE,
    ]);
    const del = w.fake.calls('k3d').at(-1);
    assert.equal(
      del?.env.KUBECONFIG,
      w.kubeconfig,
      'k3d cluster delete edits "the default kubeconfig": the sandbox one',
    );
    assert.equal(existsSync(w.kubeconfig), false);
    assertUserKubeconfigUntouched(w, before);
  });

  it('a create that fails midway (image pull) → k3d’s own last lines, the partial cluster deleted, no kubeconfig', async () => {
    const w = world();
    k3dRules(w.fake, [
      list('empty'),
      {
        args: ['cluster', 'create', 'isb-lab', '...'],
        stdout: fixture('k3d', 'cluster-create-pull-failure.stdout'),
        stderr: fixture('k3d', 'cluster-create-pull-failure.stderr'),
        exitCode: 1,
      },
      { args: ['cluster', 'delete', 'isb-lab'], stdout: fixture('k3d', 'cluster-delete-absent.stdout') },
    ]);
    const logged: string[] = [];
    await assert.rejects(new K3dProvider().up({ ...w.ctx, log: (line) => logged.push(line) }), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      const lines = err.message.split('\n');
      assert.equal(lines[0], 'k3d could not create sandbox "lab": k3d cluster create isb-lab exited with code 1:');
      assert.match(
        err.message,
        /ERRO\[0016\] Failed Cluster Creation: .*docker failed to pull image 'docker\.io\/rancher\/k3s:v1\.34\.9-k3s1'/,
      );
      assert.match(err.message, /FATA\[0016\] Cluster creation FAILED, all changes have been rolled back!/);
      assert.ok(!err.message.includes('\u001b['), 'colour codes are stripped');
      assert.match(
        lines.at(-1) ?? '',
        /Nothing was left behind: the partial cluster was deleted \(k3d cluster delete isb-lab\)/,
      );
      return true;
    });
    assert.deepEqual(w.fake.argvs(), [LIST, CREATE, DELETE]);
    assert.equal(existsSync(w.kubeconfig), false);
    assert.ok(logged.some((l) => l.startsWith("INFO[0001] Pulling image 'docker.io/rancher/k3s:v1.34.9-k3s1'")));
  });

  it('cancelled while k3d creates → the partial cluster is deleted and the error is a cancellation', async () => {
    const w = world();
    k3dRules(w.fake, [list('empty'), { ...create, delayMs: 20_000 }, deleteOk]);
    const abort = new AbortController();
    const pending = new K3dProvider().up({ ...w.ctx, signal: abort.signal });
    setTimeout(() => abort.abort(), 300);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof CancelledError);
      assert.equal(err.exitCode, ExitCode.cancelled);
      assert.match(err.message, /partial cluster was deleted/);
      return true;
    });
    assert.deepEqual(w.fake.argvs(), [LIST, CREATE, DELETE]);
    assert.equal(existsSync(w.kubeconfig), false);
  });

  it('a kubeconfig whose API server is production → exit 3, the new cluster deleted, nothing written', async () => {
    const w = world();
    const before = statSync(join(w.home, '.kube', 'config'));
    k3dRules(w.fake, [list('empty'), create, kubeconfigGet('kubeconfig-isb-lab-production.yaml'), deleteOk]);
    await assert.rejects(new K3dProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.blocked);
      assert.match(err.message, /^sandbox "lab" refused: its kubeconfig points at production\./);
      assert.match(err.message, /192\.168\.1\.50 ∈ 192\.168\.1\.0\/24 production/);
      assert.match(
        err.message,
        /The cluster was deleted \(k3d cluster delete isb-lab\) and no kubeconfig was written\./,
      );
      return true;
    });
    assert.deepEqual(w.fake.argvs(), [LIST, CREATE, KUBECONFIG_GET, DELETE]);
    assert.equal(existsSync(w.kubeconfig), false);
    assert.equal(existsSync(`${w.kubeconfig}.pending`), false);
    assertUserKubeconfigUntouched(w, before);
  });

  it('a DOCKER_HOST on a production machine refuses before k3d runs', async () => {
    const w = world({ env: { DOCKER_HOST: 'tcp://192.168.1.10:2376' } });
    k3dRules(w.fake, [list('empty'), create]);
    await assert.rejects(
      new K3dProvider().up(w.ctx),
      (err: unknown) =>
        err instanceof InfraSandboxError &&
        err.exitCode === ExitCode.blocked &&
        /DOCKER_HOST=tcp:\/\/192\.168\.1\.10:2376/.test(err.message),
    );
    assert.deepEqual(w.fake.argvs(), []);
  });

  it('k3d missing → exit 4 naming it and how to install it', async () => {
    const w = world();
    await assert.rejects(new K3dProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.toolMissing);
      assert.match(err.message, /^k3d is not installed or not on PATH\. Install k3d: see https:\/\/k3d\.io/);
      return true;
    });
  });

  it('a bad template → exit 2 with file:line, nothing run', async () => {
    const w = world({ config: { sandboxes: { lab: { provider: 'k3d', template: './sandboxes/broken' } } } });
    mkdirSync(join(w.root, 'sandboxes', 'broken'), { recursive: true });
    const file = join(w.root, 'sandboxes', 'broken', 'k3d.yaml');
    k3dRules(w.fake, [list('empty'), create]);

    writeFileSync(file, 'apiVersion: k3d.io/v1alpha5\nkind: Simple\nservers: [1\nagents: 0\n');
    await assert.rejects(new K3dProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.match(err.message, new RegExp(`^${escape(file)}:\\d+:\\d+: error k3d template: YAML syntax`));
      return true;
    });

    writeFileSync(file, 'apiVersion: k3d.io/v1alpha5\nkind: Cluster\nservers: 1\n');
    await assert.rejects(new K3dProvider().up(w.ctx), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.match(err.message, new RegExp(`^${escape(file)}:2:7: error kind: "Cluster"`));
      return true;
    });

    writeFileSync(file, 'apiVersion: k3d.io/v1alpha5\nkind: Simple\noptions:\n  k3d:\n    timeout: soon\n');
    await assert.rejects(
      new K3dProvider().up(w.ctx),
      (err: unknown) =>
        err instanceof InfraSandboxError && err.message.startsWith(`${file}:5:14: error options.k3d.timeout: "soon"`),
    );
    assert.deepEqual(w.fake.argvs(), []);
  });

  it('an invalid sandbox name → exit 2, nothing run', async () => {
    for (const name of ['Lab_1', '-lab', 'a-name-far-too-long-for-a-k3d-cluster']) {
      const w = world({ name, config: { sandboxes: { [name]: { provider: 'k3d', template: 'k3d/fast' } } } });
      k3dRules(w.fake, [list('empty'), create]);
      await assert.rejects(new K3dProvider().up(w.ctx), (err: unknown) => {
        assert.ok(err instanceof InfraSandboxError, String(err));
        assert.equal(err.exitCode, ExitCode.usage);
        assert.match(err.message, /^invalid sandbox name/);
        return true;
      });
      assert.deepEqual(w.fake.argvs(), []);
    }
  });

  it('a sandbox that is not in the config, or of another provider → exit 2', async () => {
    const w = world({ config: { sandboxes: { lab: { provider: 'compose', template: 'compose/local-stack' } } } });
    k3dRules(w.fake, [list('empty')]);
    await assert.rejects(new K3dProvider().up(w.ctx), /uses the compose provider, not k3d/);
    await assert.rejects(new K3dProvider().up({ ...w.ctx, name: 'nope' }), /no sandbox named "nope"/);
    assert.deepEqual(w.fake.argvs(), []);
  });

  it('logs are `docker logs` of the node containers; the shell is docker exec into server-0', async () => {
    const w = world();
    k3dRules(w.fake, [list('running')]);
    w.fake.tool('docker', [
      { args: ['logs', '--tail', '100', 'k3d-isb-lab-server-0'], stdout: fixture('k3d', 'docker-logs-server-0.txt') },
    ]);
    const provider = new K3dProvider();
    const lines: string[] = [];
    for await (const line of provider.logs(w.ctx, { tail: 100 })) lines.push(line);
    assert.equal(lines.length, 8);
    assert.match(lines[6], /msg="k3s is up and running"/);
    assert.deepEqual(w.fake.argvs('docker'), [['docker', 'logs', '--tail', '100', 'k3d-isb-lab-server-0']]);

    // Following: leaving the loop stops `docker logs --follow` at once.
    w.fake.tool('docker', [
      {
        args: ['logs', '--follow', 'k3d-isb-lab-server-0'],
        stdout: fixture('k3d', 'docker-logs-server-0.txt'),
        holdMs: 30_000,
      },
    ]);
    const t0 = Date.now();
    let first: string | undefined;
    for await (const line of provider.logs(w.ctx, { follow: true })) {
      first = line;
      break;
    }
    assert.match(first ?? '', /Starting k3s v1\.34\.9\+k3s1/);
    assert.ok(Date.now() - t0 < 10_000, 'the follower was stopped');

    assert.deepEqual(await provider.shellCommand(w.ctx), ['docker', 'exec', '-it', 'k3d-isb-lab-server-0', 'sh']);
    await assert.rejects(provider.shellCommand(w.ctx, 'k3d-isb-other-server-0'), /is not a node of sandbox "lab"/);
    await assert.rejects(
      (async () => {
        for await (const _ of provider.logs(w.ctx, { member: 'k3d-isb-lab-agent-7' })) void _;
      })(),
      /has no node "k3d-isb-lab-agent-7"/,
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
