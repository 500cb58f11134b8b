/**
 * The compose provider against the real Docker engine and Debian's docker-compose v1 (recipe:
 * shared/recipes/real-docker-sandboxes.md). The engine is started when it is not running, and the
 * local image infra-sandbox/node:bookworm is built once (test/helpers/docker.ts). Every sandbox
 * made here is destroyed in `after`, also when a test fails.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { InfraSandboxError, run, ToolMissingError } from '../../../src/core/exec';
import { composeCommand, composeConfigCheck, findComposeTool } from '../../../src/core/sandbox/composeCommands';
import { composeOverride, findComposeFile, readComposeFile } from '../../../src/core/sandbox/composeFile';
import { SandboxService } from '../../../src/core/sandbox/service';
import { resolveTemplate } from '../../../src/core/sandbox/templates';
import { ComposeProvider, sandboxLabels } from '../../../src/core/sandbox/compose';
import { COMPOSE_PROJECT_LABEL, DockerEngine } from '../../../src/core/sandbox/docker';
import { projectName, SANDBOX_LABEL, type SandboxContext } from '../../../src/core/sandbox/types';
import { ensureNodeImage } from '../../helpers/docker';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = resolve(__dirname, '../../fixtures/compose');
const root = tempDir('compose');
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.DOCKER_HOST; // the engine the helper started: the default socket
delete env.DOCKER_CONTEXT;

const config: WorkspaceConfig = {
  version: 1,
  sandboxes: {
    'isbt-basic': { provider: 'compose', template: join(FIXTURES, 'basic') },
    'isbt-other': { provider: 'compose', template: join(FIXTURES, 'basic') },
    'isbt-nodes': {
      provider: 'compose',
      template: 'compose/nodes',
      groups: { k3s_server: [1], k3s_agents: [2, 3], pi2: [2] },
    },
    'isbt-unhealthy': { provider: 'compose', template: join(FIXTURES, 'unhealthy') },
    'isbt-cancel': { provider: 'compose', template: join(FIXTURES, 'basic') },
    'isbt-broken': { provider: 'compose', template: join(FIXTURES, 'broken-yaml') },
    'isbt-empty': { provider: 'compose', template: join(FIXTURES, 'no-services') },
    Bad_Name: { provider: 'compose', template: join(FIXTURES, 'basic') },
  },
};

const provider = new ComposeProvider({ readyTimeoutMs: 60_000 });
const engine = new DockerEngine(env);

function ctx(name: string, extra: Partial<SandboxContext> = {}): SandboxContext {
  return { root, configFile: join(root, 'infra-sandbox.yaml'), config, name, env, ...extra };
}

/** Everything the engine holds for a compose project, whoever labelled it. */
async function leftovers(name: string) {
  const project = { [COMPOSE_PROJECT_LABEL]: projectName(name) };
  return {
    containers: (await engine.containers(project)).map((c) => c.name),
    networks: await engine.networks(project),
    volumes: await engine.volumes(project),
  };
}

const NOTHING = { containers: [], networks: [], volumes: [] };

async function destroyQuietly(name: string): Promise<void> {
  try {
    await provider.destroy(ctx(name));
  } catch {
    await engine.removeAll({ [COMPOSE_PROJECT_LABEL]: projectName(name) }).catch(() => undefined);
  }
}

const made = ['isbt-basic', 'isbt-other', 'isbt-nodes', 'isbt-unhealthy', 'isbt-cancel'];

describe('compose provider (real Docker, docker-compose v1)', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    await ensureNodeImage();
    for (const name of made) await destroyQuietly(name); // leftovers of an interrupted run
  });

  after(async () => {
    for (const name of made) await destroyQuietly(name);
  });

  it('a sandbox from a test template comes up healthy, labelled, with its time-to-ready', async () => {
    const progress: string[] = [];
    const result = await provider.up(ctx('isbt-basic', { progress: (m) => progress.push(m) }));
    assert.equal(result.status.state, 'running');
    assert.ok(result.timeToReadyMs > 0, `time-to-ready ${result.timeToReadyMs}`);
    const members = Object.fromEntries(result.status.members.map((m) => [m.name, m]));
    assert.deepEqual(Object.keys(members).sort(), ['app', 'sidecar']);
    assert.equal(members.app.state, 'running');
    assert.equal(members.app.health, 'healthy');
    assert.equal(members.sidecar.health, undefined);
    assert.equal(members.app.image, 'infra-sandbox/node:bookworm');
    assert.ok(members.app.addresses.length > 0);
    assert.ok(progress.includes('app: healthy'), progress.join('\n'));
    // Labelled through the override file, the template untouched.
    const override = readFileSync(join(root, '.infra-sandbox/compose/isbt-basic.override.yaml'), 'utf8');
    assert.match(override, /dev\.infra-sandbox\.sandbox: isbt-basic/);
    assert.deepEqual(await engine.volumes({ [SANDBOX_LABEL]: 'isbt-basic' }), ['isb-isbt-basic_data']);
    assert.deepEqual(await engine.networks({ [SANDBOX_LABEL]: 'isbt-basic' }), ['isb-isbt-basic_default']);
    console.log(`# time-to-ready (compose, 2 services): ${result.timeToReadyMs} ms`);
  });

  it('status, list and logs come from the engine by label', async () => {
    const status = await provider.status(ctx('isbt-basic'));
    assert.equal(status.state, 'running');
    assert.equal(status.members.length, 2);
    const listed = await engine.containers(sandboxLabels('isbt-basic'));
    assert.deepEqual(
      listed.map((c) => c.service),
      ['app', 'sidecar'],
    );
    assert.deepEqual(
      status.members.map((m) => m.id),
      listed.map((c) => c.id),
    );

    const lines: string[] = [];
    for await (const line of provider.logs(ctx('isbt-basic'), { member: 'app' })) lines.push(line);
    assert.ok(lines.includes('app started'), lines.join('\n')); // stdout
    assert.ok(lines.includes('app warning'), lines.join('\n')); // stderr, demultiplexed

    const all: string[] = [];
    for await (const line of provider.logs(ctx('isbt-basic'), {})) all.push(line);
    assert.ok(all.includes('app | app started'), all.join('\n'));

    // Following: a line written after the stream opened arrives; stopping the loop ends the stream.
    const app = listed[0];
    const followed: string[] = [];
    const iterator = provider.logs(ctx('isbt-basic'), { member: 'app', follow: true, tail: 0 });
    const reading = (async () => {
      for await (const line of iterator) {
        followed.push(line);
        if (line === 'followed line') break;
      }
    })();
    await delay(300);
    await run(
      { command: 'docker', args: ['exec', app.name, 'sh', '-c', 'echo followed line > /proc/1/fd/1'] },
      { env },
    );
    await withTimeout(reading, 10_000, 'the followed log line');
    assert.deepEqual(followed, ['followed line']);

    assert.deepEqual(await provider.shellCommand(ctx('isbt-basic'), 'app'), [
      'docker',
      'exec',
      '-it',
      app.name,
      '/bin/bash',
    ]);
  });

  it('data written to a named volume survives stop and start', async () => {
    const [app] = await engine.containers(sandboxLabels('isbt-basic'));
    await run({ command: 'docker', args: ['exec', app.name, 'sh', '-c', 'echo keep-me > /data/kept'] }, { env });

    const stopped = await provider.stop(ctx('isbt-basic'));
    assert.equal(stopped.state, 'stopped');
    assert.ok(
      stopped.members.every((m) => m.state === 'stopped'),
      JSON.stringify(stopped.members),
    );
    assert.deepEqual(await engine.volumes(sandboxLabels('isbt-basic')), ['isb-isbt-basic_data']);

    const started = await provider.start(ctx('isbt-basic'));
    assert.equal(started.status.state, 'running');
    assert.ok(started.timeToReadyMs > 0);
    const out = await run({ command: 'docker', args: ['exec', app.name, 'cat', '/data/kept'] }, { env });
    assert.equal(out.stdout.trim(), 'keep-me');
  });

  it('two sandboxes side by side do not see each other', async () => {
    await provider.up(ctx('isbt-other'));
    const basic = await provider.status(ctx('isbt-basic'));
    const other = await provider.status(ctx('isbt-other'));
    assert.equal(other.state, 'running');
    const basicIds = new Set(basic.members.map((m) => m.id));
    assert.equal(basic.members.length, 2);
    assert.equal(other.members.length, 2);
    assert.ok(other.members.every((m) => !basicIds.has(m.id)));

    // Without any Compose on PATH, destroy still removes everything, through the engine by label.
    const lines: string[] = [];
    const noCompose = { ...env, PATH: tempDir('no-compose') };
    await provider.destroy(ctx('isbt-other', { env: noCompose, log: (l) => lines.push(l) }));
    assert.match(lines.join('\n'), /Docker Compose .* is not installed.*removing by label through the engine/);
    assert.deepEqual(await leftovers('isbt-other'), NOTHING);
    assert.equal((await provider.status(ctx('isbt-other'))).state, 'absent');
    assert.equal((await provider.status(ctx('isbt-basic'))).state, 'running');
  });

  it('limits.maxSandboxes: with one sandbox up and a limit of 1, the next is refused and nothing is created', async () => {
    assert.equal((await provider.status(ctx('isbt-basic'))).state, 'running');
    const limited: WorkspaceConfig = { ...config, limits: { maxSandboxes: 1 } };
    const service = new SandboxService({ providers: { compose: provider } });
    await assert.rejects(
      service.run('up', ctx('isbt-other', { config: limited })),
      (err: InfraSandboxError) =>
        err.exitCode === 2 && /limits\.maxSandboxes is 1 and 1 exist \(isbt-basic: running\)/.test(err.message),
    );
    assert.deepEqual(await leftovers('isbt-other'), NOTHING);
  });

  it('destroy removes containers, networks and volumes', async () => {
    assert.notDeepEqual(await leftovers('isbt-basic'), NOTHING);
    await provider.destroy(ctx('isbt-basic'));
    assert.deepEqual(await leftovers('isbt-basic'), NOTHING);
    assert.equal((await provider.status(ctx('isbt-basic'))).state, 'absent');
    assert.equal(existsSync(join(root, '.infra-sandbox/compose/isbt-basic.override.yaml')), false);
  });

  it('compose/nodes: 3 healthy nodes, an inventory with the mapped groups, and Ansible reaches each', async () => {
    const result = await provider.up(ctx('isbt-nodes'));
    console.log(`# time-to-ready (compose/nodes, 3 nodes): ${result.timeToReadyMs} ms`);
    assert.equal(result.status.state, 'running');
    assert.deepEqual(
      result.status.members.map((m) => [m.name, m.health]),
      [
        ['node-1', 'healthy'],
        ['node-2', 'healthy'],
        ['node-3', 'healthy'],
      ],
    );
    const inventory = result.status.artifacts.inventory;
    assert.equal(inventory, join(root, '.infra-sandbox/inventory/isbt-nodes.ini'));
    const text = readFileSync(inventory as string, 'utf8');
    assert.match(
      text,
      /^isbt-nodes-node-1 ansible_host=isb-isbt-nodes_node_1 ansible_connection=community\.docker\.docker ansible_python_interpreter=\/usr\/bin\/python3$/m,
    );
    assert.match(text, /\[k3s_server\]\nisbt-nodes-node-1\n/);
    assert.match(text, /\[k3s_agents\]\nisbt-nodes-node-2\nisbt-nodes-node-3\n/);
    assert.match(text, /\[pi2\]\nisbt-nodes-node-2\n/);

    const ansibleEnv = { ...env, ANSIBLE_PIPELINING: 'True', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False' };
    const ping = await run(
      { command: 'ansible', args: ['-i', inventory as string, 'all', '-m', 'ping', '-o'] },
      { env: ansibleEnv },
    );
    for (const i of [1, 2, 3])
      assert.match(ping.stdout, new RegExp(`^isbt-nodes-node-${i} \\| SUCCESS => .*"ping": ?"pong"`, 'm'), ping.stdout);
    const agents = await run(
      { command: 'ansible', args: ['-i', inventory as string, 'k3s_agents', '--list-hosts'] },
      { env: ansibleEnv },
    );
    assert.match(agents.stdout, /hosts \(2\)/);

    await provider.destroy(ctx('isbt-nodes'));
    assert.deepEqual(await leftovers('isbt-nodes'), NOTHING);
    assert.equal(existsSync(inventory as string), false);
  });

  it('a service that turns unhealthy fails up, named with its last log lines', async () => {
    await assert.rejects(provider.up(ctx('isbt-unhealthy')), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /service doomed .* is unhealthy/);
      assert.match(err.message, /doomed service says goodbye/);
      return true;
    });
    await provider.destroy(ctx('isbt-unhealthy'));
    assert.deepEqual(await leftovers('isbt-unhealthy'), NOTHING);
  });

  it('cancelling up stops Compose and the wait (exit 130)', async () => {
    const controller = new AbortController();
    const log = (line: string) => {
      if (/Creating/.test(line)) controller.abort();
    };
    await assert.rejects(provider.up(ctx('isbt-cancel', { signal: controller.signal, log })), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError, String(err));
      assert.equal(err.exitCode, 130);
      return true;
    });
    await provider.destroy(ctx('isbt-cancel'));
    assert.deepEqual(await leftovers('isbt-cancel'), NOTHING);
  });

  it('invalid compose YAML in a template: exit 2 naming file:line, nothing created', async () => {
    await assert.rejects(provider.up(ctx('isbt-broken')), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /broken-yaml\/compose\.yaml:7:5: invalid YAML/);
      return true;
    });
    await assert.rejects(provider.up(ctx('isbt-empty')), (err: unknown) => {
      assert.ok(err instanceof InfraSandboxError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /no-services\/compose\.yaml:1:1: no `services:`/);
      return true;
    });
    for (const name of ['isbt-broken', 'isbt-empty']) {
      assert.deepEqual(await leftovers(name), NOTHING);
      assert.equal(existsSync(join(root, `.infra-sandbox/compose/${name}.override.yaml`)), false);
    }
  });

  it('a sandbox name that is not a DNS label: exit 2, nothing created', async () => {
    for (const name of ['Bad_Name', '-lead', 'trail-', 'a'.repeat(64), 'dots.not.allowed']) {
      await assert.rejects(provider.up(ctx(name)), (err: unknown) => {
        assert.ok(err instanceof InfraSandboxError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /not a valid sandbox name: use a DNS label/);
        return true;
      });
    }
    assert.deepEqual(await leftovers('Bad_Name'.toLowerCase()), NOTHING);
  });

  it('the engine not running: exit 4 with a clear message', async () => {
    const down = { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' };
    for (const op of [
      () => provider.up(ctx('isbt-basic', { env: down })),
      () => provider.status(ctx('isbt-basic', { env: down })),
      () => provider.destroy(ctx('isbt-basic', { env: down })),
    ]) {
      await assert.rejects(op(), (err: unknown) => {
        assert.ok(err instanceof InfraSandboxError);
        assert.equal(err.exitCode, 4);
        assert.match(
          err.message,
          /^the Docker engine is not running \(unix:\/\/\/nonexistent\.sock: ENOENT\): start it \(e\.g\. `sudo systemctl start docker`, or `dockerd`\)$/,
        );
        return true;
      });
    }
    await assert.rejects(new DockerEngine(down).engineAvailable(), /not running/);
  });
});

describe('shipped compose templates (validated, not run: their images need a registry)', () => {
  for (const template of ['compose/local-stack', 'compose/nodes']) {
    it(`${template} parses, and Compose accepts it with the sandbox override (config -q)`, async () => {
      const model = readComposeFile(findComposeFile(resolveTemplate(template, root)));
      assert.ok(model.services.length > 0);
      const override = join(tempDir('override'), 'override.yaml');
      writeFileSync(override, composeOverride(model, { [SANDBOX_LABEL]: 'check' }));
      const project = {
        tool: await findComposeTool(env),
        project: projectName('check'),
        files: [model.file, override],
      };
      await run(composeConfigCheck(project), { env: { ...env, ISB_NODES: '5' } });
      const merged = await run(composeCommand(project, ['config']), { env: { ...env, ISB_NODES: '5' } });
      assert.match(merged.stdout, /dev\.infra-sandbox\.sandbox: check/);
      if (template === 'compose/nodes') assert.match(merged.stdout, /scale: 5/);
      else {
        assert.deepEqual(
          model.services.map((s) => [s.name, s.hasHealthcheck]),
          [
            ['postgres', true],
            ['nats', true],
            ['vault', true],
            ['gitea', true],
          ],
        );
        // Published on loopback only (v1 prints `- 127.0.0.1:5432:5432/tcp`).
        const ports = merged.stdout.split('\n').filter((l) => /^\s+- .*\/(tcp|udp)$/.test(l));
        assert.equal(ports.length, 6, merged.stdout);
        for (const line of ports) assert.match(line, /^\s+- 127\.0\.0\.1:\d+:\d+\/tcp$/);
      }
    });
  }
});

describe('finding Compose (fake tools on PATH)', () => {
  /** A folder holding `docker` (answering `compose version` or not) and/or `docker-compose`. */
  function fakePath(tools: { docker?: 'with-plugin' | 'without-plugin'; dockerCompose?: boolean }): string {
    const dir = tempDir('compose-path');
    if (tools.docker) {
      const code = tools.docker === 'with-plugin' ? 0 : 1;
      writeFileSync(
        join(dir, 'docker'),
        `#!/bin/sh\n[ "$1" = compose ] && echo "Docker Compose version v2.29.7" && exit ${code}\nexit 0\n`,
      );
      chmodSync(join(dir, 'docker'), 0o755);
    }
    if (tools.dockerCompose) {
      writeFileSync(join(dir, 'docker-compose'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, 'docker-compose'), 0o755);
    }
    return dir; // alone: /bin is /usr/bin here, which has the real docker-compose
  }

  it('prefers docker compose v2, then docker-compose v1', async () => {
    const v2 = await findComposeTool({ PATH: fakePath({ docker: 'with-plugin', dockerCompose: true }) });
    assert.equal(v2.flavor, 'docker compose');
    const v1 = await findComposeTool({ PATH: fakePath({ docker: 'without-plugin', dockerCompose: true }) });
    assert.equal(v1.flavor, 'docker-compose');
  });

  it('no Compose at all: exit 4 with how to install one', async () => {
    await assert.rejects(findComposeTool({ PATH: fakePath({ docker: 'without-plugin' }) }), (err: unknown) => {
      assert.ok(err instanceof ToolMissingError);
      assert.equal(err.exitCode, 4);
      assert.match(
        err.message,
        /Docker Compose .* is not installed or not on PATH\. Install Compose: .*apt-get install -y docker-compose/,
      );
      return true;
    });
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`timed out waiting for ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
