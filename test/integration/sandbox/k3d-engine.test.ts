/**
 * k3d's nodes are containers: their details come from the Docker engine's API. A fake `k3d`
 * replays `cluster list -o json` (test/fixtures/k3d) while the real engine holds a container
 * standing in for the server node, labelled the way k3d labels its nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { run } from '../../../src/core/exec';
import { K3dProvider } from '../../../src/core/sandbox/k3d';
import { ensureNodeImage, NODE_IMAGE } from '../../helpers/docker';
import { FakeBin, fixture } from '../../helpers/fakeTool';
import { tempDir } from '../../helpers/tmp';

const NODE = 'k3d-isb-lab-server-0';
const docker = (...args: string[]) => run({ command: 'docker', args });

describe('k3d nodes through the engine (real Docker, fake k3d)', { timeout: 5 * 60_000 }, () => {
  before(async () => {
    await ensureNodeImage();
    await docker('rm', '-f', NODE).catch(() => undefined);
    await docker(
      'run',
      '-d',
      '--name',
      NODE,
      '--label',
      'k3d.cluster=isb-lab',
      '--label',
      'k3d.role=server',
      '-p',
      '127.0.0.1::6443',
      NODE_IMAGE,
      'sleep',
      'infinity',
    );
  });
  after(async () => {
    await docker('rm', '-f', NODE).catch(() => undefined);
  });

  it('status adds the image, the published API port, the container id and its addresses', async () => {
    const fake = new FakeBin();
    fake.tool('k3d', [
      { args: ['cluster', 'list', '-o', 'json'], stdout: fixture('k3d', 'cluster-list-running.json') },
    ]);
    const root = tempDir('k3d-engine');
    const config: WorkspaceConfig = { version: 1, sandboxes: { lab: { provider: 'k3d', template: 'k3d/fast' } } };
    const env: NodeJS.ProcessEnv = { PATH: `${fake.dir}:/usr/bin:/bin`, HOME: root };
    const status = await new K3dProvider().status({
      root,
      configFile: `${root}/infra-sandbox.yaml`,
      config,
      name: 'lab',
      env,
    });
    assert.equal(status.state, 'running');
    const server = status.members.find((m) => m.name === NODE);
    assert.ok(server, `a member ${NODE}; got ${status.members.map((m) => m.name).join(', ')}`);
    assert.equal(server.image, NODE_IMAGE);
    assert.match(server.id ?? '', /^[0-9a-f]{12,}$/);
    assert.ok(
      server.ports.some((p) => /^127\.0\.0\.1:\d+->6443\/tcp$/.test(p)),
      server.ports.join(', '),
    );
    assert.ok(server.addresses.length > 0);
  });
});
