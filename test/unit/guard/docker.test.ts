import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerEngineTarget, extractDocker } from '../../../src/core/guard/families/docker';
import type { ExtractContext, Target } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

// ssh:// engines go through the real `ssh -G` and are tested in test/integration/guard/ssh.test.ts.

function ctx(env: NodeJS.ProcessEnv = {}, home = tempDir('docker-home')): ExtractContext {
  return { cwd: '/work', env, home, inventoryParser: 'builtin' };
}

/** Writes a docker context the way `docker context create` does. */
function dockerContext(home: string, name: string, host: string): string {
  const dir = join(home, '.docker', 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'meta.json');
  const meta = {
    Name: name,
    Metadata: { Description: '' },
    Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
  };
  writeFileSync(file, JSON.stringify(meta, null, 2));
  return file;
}

const view = (targets: Target[]) => targets.map((t) => [t.kind, t.host]);

describe('docker engine target', () => {
  it('tcp:// is a remote engine; unix:// and unset are the local one', () => {
    assert.deepEqual(
      dockerEngineTarget('tcp://192.168.1.50:2376', { kind: 'env', envVar: 'DOCKER_HOST' }, '$DOCKER_HOST').host,
      '192.168.1.50',
    );
    assert.equal(dockerEngineTarget('unix:///var/run/docker.sock', { kind: 'default' }, 'x').kind, 'local');
    assert.equal(dockerEngineTarget(undefined, { kind: 'default' }, 'x').kind, 'local');
  });
});

describe('docker / docker-compose / podman extractor', () => {
  it('-H before the subcommand is the engine, with its argv index', async () => {
    const { targets } = await extractDocker(['docker', '-H', 'tcp://192.168.1.50:2376', 'ps'], ctx());
    assert.deepEqual(view(targets), [['docker-engine', '192.168.1.50']]);
    assert.deepEqual(targets[0].source, { kind: 'argv', argIndex: 2, detail: '-H' });
    assert.deepEqual(
      (await extractDocker(['docker', '--host=tcp://10.1.1.1:2375', 'ps'], ctx())).targets[0].host,
      '10.1.1.1',
    );
  });

  it('flags after the subcommand are not global options', async () => {
    const { targets } = await extractDocker(['docker', 'run', '-H', 'tcp://10.9.9.9:2375', 'alpine'], ctx());
    assert.deepEqual(view(targets), [['local', undefined]]);
  });

  it('$DOCKER_HOST, unless -H is given', async () => {
    const env = { DOCKER_HOST: 'tcp://10.2.2.2:2376' };
    const { targets } = await extractDocker(['docker', 'compose', 'up'], ctx(env));
    assert.deepEqual(view(targets), [['docker-engine', '10.2.2.2']]);
    assert.deepEqual(targets[0].source, { kind: 'env', envVar: 'DOCKER_HOST' });
    assert.deepEqual(view((await extractDocker(['docker', '-H', 'unix:///run/d.sock', 'ps'], ctx(env))).targets), [
      ['local', undefined],
    ]);
  });

  it('--context reads the endpoint from the context meta.json and names the file', async () => {
    const home = tempDir('docker-home');
    const file = dockerContext(home, 'prod', 'tcp://192.168.1.60:2376');
    const { targets, problems } = await extractDocker(['docker', '--context', 'prod', 'ps'], ctx({}, home));
    assert.deepEqual(problems, []);
    assert.deepEqual(view(targets), [['docker-engine', '192.168.1.60']]);
    assert.match(
      targets[0].chain[0],
      /^context prod \(argv\[2\] --context; ~\/\.docker\/contexts\/meta\/[0-9a-f]{64}\/meta\.json:8\) → Host tcp:\/\/192\.168\.1\.60:2376$/,
    );
    assert.ok(file.startsWith(home));
  });

  it('--context wins over $DOCKER_HOST; $DOCKER_HOST over $DOCKER_CONTEXT', async () => {
    const home = tempDir('docker-home');
    dockerContext(home, 'prod', 'tcp://192.168.1.60:2376');
    const both = { DOCKER_HOST: 'tcp://10.2.2.2:2376', DOCKER_CONTEXT: 'prod' };
    assert.equal(
      (await extractDocker(['docker', '--context', 'prod', 'ps'], ctx(both, home))).targets[0].host,
      '192.168.1.60',
    );
    assert.equal((await extractDocker(['docker', 'ps'], ctx(both, home))).targets[0].host, '10.2.2.2');
    const ctxOnly = await extractDocker(['docker', 'ps'], ctx({ DOCKER_CONTEXT: 'prod' }, home));
    assert.equal(ctxOnly.targets[0].host, '192.168.1.60');
    assert.deepEqual(ctxOnly.targets[0].source, { kind: 'env', envVar: 'DOCKER_CONTEXT' });
  });

  it('the currentContext of ~/.docker/config.json (or $DOCKER_CONFIG)', async () => {
    const home = tempDir('docker-home');
    dockerContext(home, 'remote', 'tcp://10.3.3.3:2376');
    writeFileSync(join(home, '.docker', 'config.json'), '{\n  "auths": {},\n  "currentContext": "remote"\n}\n');
    const { targets } = await extractDocker(['docker', 'ps'], ctx({}, home));
    assert.equal(targets[0].host, '10.3.3.3');
    assert.deepEqual(targets[0].source, { kind: 'file', file: join(home, '.docker', 'config.json'), line: 3 });
    const elsewhere = await extractDocker(['docker', 'ps'], ctx({ DOCKER_CONFIG: join(home, 'none') }, home));
    assert.deepEqual(view(elsewhere.targets), [['local', undefined]]);
  });

  it('an unknown context and a broken meta.json are problems', async () => {
    const home = tempDir('docker-home');
    const unknown = await extractDocker(['docker', '--context', 'nope', 'ps'], ctx({}, home));
    assert.deepEqual(unknown.targets, []);
    assert.match(unknown.problems[0].message, /docker context "nope" .* does not exist/);
    const file = dockerContext(home, 'bad', 'x');
    writeFileSync(file, '{\n  "Name": "bad",\n  "Endpoints": {\n}');
    const broken = await extractDocker(['docker', '--context', 'bad', 'ps'], ctx({}, home));
    assert.equal(broken.problems[0].file, file);
    assert.match(broken.problems[0].message, /not valid JSON/);
  });

  it('the default context is $DOCKER_HOST or the local socket', async () => {
    const t = await extractDocker(
      ['docker', '--context', 'default', 'ps'],
      ctx({ DOCKER_HOST: 'tcp://10.4.4.4:2375' }),
    );
    assert.equal(t.targets[0].host, '10.4.4.4');
  });

  it('docker context … only edits local settings', async () => {
    const e = await extractDocker(['docker', 'context', 'use', 'prod'], ctx({ DOCKER_HOST: 'tcp://10.2.2.2:2376' }));
    assert.deepEqual(e.targets, []);
    assert.equal(e.notes.length, 1);
  });

  it('-H glued to its value, with =, or after other shorthand flags (pflag)', async () => {
    for (const argv of [
      ['docker', '-Htcp://192.168.1.50:2376', 'ps'],
      ['docker', '-H=tcp://192.168.1.50:2376', 'ps'],
      ['docker', '-DHtcp://192.168.1.50:2376', 'ps'],
    ]) {
      const { targets } = await extractDocker(argv, ctx());
      assert.deepEqual(view(targets), [['docker-engine', '192.168.1.50']], argv.join(' '));
      assert.deepEqual(targets[0].source, { kind: 'argv', argIndex: 1, detail: '-H' }, argv.join(' '));
    }
    const split = await extractDocker(['docker', '-DH', 'tcp://192.168.1.50:2376', 'ps'], ctx());
    assert.deepEqual(view(split.targets), [['docker-engine', '192.168.1.50']]);
    assert.deepEqual(split.targets[0].source, { kind: 'argv', argIndex: 2, detail: '-H' });
    const podman = await extractDocker(['podman', '-Htcp://10.6.6.6:8080', 'ps'], ctx());
    assert.deepEqual(view(podman.targets), [['docker-engine', '10.6.6.6']]);
  });

  it('docker-compose takes -H too, skipping -f FILE', async () => {
    const { targets } = await extractDocker(
      ['docker-compose', '-f', 'stack.yml', '-H', 'tcp://10.5.5.5:2375', 'up'],
      ctx(),
    );
    assert.deepEqual(view(targets), [['docker-engine', '10.5.5.5']]);
  });

  it('podman: --url, $CONTAINER_HOST, and --connection from podman-connections.json', async () => {
    assert.equal(
      (await extractDocker(['podman', '--url', 'tcp://10.6.6.6:8080', 'ps'], ctx())).targets[0].host,
      '10.6.6.6',
    );
    assert.equal(
      (await extractDocker(['podman', 'ps'], ctx({ CONTAINER_HOST: 'ssh://core@10.7.7.7/run/podman.sock' }))).targets[0]
        .host,
      '10.7.7.7',
    );
    const home = tempDir('podman-home');
    mkdirSync(join(home, '.config', 'containers'), { recursive: true });
    const conns = {
      Connection: {
        Default: 'prod',
        Connections: { prod: { URI: 'ssh://core@192.168.1.70:22/run/podman/podman.sock' } },
      },
    };
    writeFileSync(join(home, '.config', 'containers', 'podman-connections.json'), JSON.stringify(conns, null, 2));
    const viaConn = await extractDocker(['podman', '--connection', 'prod', 'ps'], ctx({}, home));
    assert.deepEqual(view(viaConn.targets), [['docker-engine', '192.168.1.70']]);
    const missing = await extractDocker(['podman', '-c', 'nope', 'ps'], ctx({}, home));
    assert.match(missing.problems[0].message, /podman connection "nope"/);
    assert.deepEqual(view((await extractDocker(['podman', 'ps'], ctx({}, home))).targets), [['local', undefined]]);
  });
});
