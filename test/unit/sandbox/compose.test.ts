/** The compose provider's pure parts: compose files, the override, argv, inventory, status, log frames, DOCKER_HOST. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraSandboxError } from '../../../src/core/exec';
import {
  composeCommand,
  composeDown,
  composeStart,
  composeStop,
  composeUp,
  DOCKER_COMPOSE_V1,
  DOCKER_COMPOSE_V2,
  PODMAN_COMPOSE,
} from '../../../src/core/sandbox/composeCommands';
import { composeOverride, labelMap, parseComposeText } from '../../../src/core/sandbox/composeFile';
import {
  ANSIBLE_NODE_LABEL,
  nodeContainers,
  nodeCount,
  renderInventory,
} from '../../../src/core/sandbox/composeInventory';
import { composeStatus, memberName, readiness } from '../../../src/core/sandbox/composeStatus';
import { dockerEndpoint, LogSplitter, type ContainerDetails } from '../../../src/core/sandbox/docker';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InfraSandboxError, String(err));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('compose files', () => {
  it('reads services, their lines, health checks, profiles and labels; YAML 1.1 merges resolve', () => {
    const model = parseComposeText(
      'c.yaml',
      [
        'version: 2.4',
        'x-base: &base',
        '  image: busybox',
        '  healthcheck: { test: ["CMD", "true"] }',
        'services:',
        '  web:',
        '    <<: *base',
        '    labels: ["a=1", "b=x=y"]',
        '  opt:',
        '    image: busybox',
        '    healthcheck: { disable: true }',
        '    profiles: [debug]',
        '    network_mode: host',
        'volumes:',
        '  data: { driver: local }',
        '  ext: { external: true }',
      ].join('\n'),
    );
    assert.equal(model.version, '2.4');
    assert.deepEqual(
      model.services.map((s) => [s.name, s.line, s.hasHealthcheck, s.profiles, s.ownNetworking]),
      [
        ['web', 6, true, [], false],
        ['opt', 9, false, ['debug'], true],
      ],
    );
    assert.deepEqual(model.services[0].labels, { a: '1', b: 'x=y' });
    assert.deepEqual(Object.keys(model.volumes), ['data', 'ext']);
  });

  it('broken YAML is exit 2 with file:line:column', () => {
    rejects(
      () => parseComposeText('t/compose.yaml', 'services:\n  app:\n    command: ["a"\n    image: x\n'),
      /^t\/compose\.yaml:4:5: invalid YAML: /,
    );
    rejects(
      () => parseComposeText('c.yaml', 'services:\n  a: {image: x}\n  a: {image: y}\n'),
      /^c\.yaml:3:3: invalid YAML: Map keys must be unique/,
    );
  });

  it('a file without services, or with the wrong shapes, is exit 2 at the offending line', () => {
    rejects(() => parseComposeText('c.yaml', ''), /^c\.yaml:1:1: the file is empty/);
    rejects(() => parseComposeText('c.yaml', 'volumes: {}\n'), /^c\.yaml:1:1: no `services:`/);
    rejects(() => parseComposeText('c.yaml', '- a\n- b\n'), /^c\.yaml:1:1: the top level must be a mapping/);
    rejects(
      () => parseComposeText('c.yaml', 'version: "3"\nservices:\n'),
      /^c\.yaml:2:\d+: `services:` must be a mapping/,
    );
    rejects(
      () => parseComposeText('c.yaml', 'services:\n  ok: {image: x}\n  bad: just-a-string\n'),
      /^c\.yaml:3:3: service bad: its settings must be a mapping/,
    );
    rejects(
      () => parseComposeText('c.yaml', 'services:\n  "no spaces": {image: x}\n'),
      /^c\.yaml:2:3: service name "no spaces"/,
    );
    rejects(
      () => parseComposeText('c.yaml', 'services:\n  on: {image: x}\n'),
      /^c\.yaml:2:3: service name on is read as a boolean by YAML 1\.1/,
    );
    rejects(
      () => parseComposeText('c.yaml', 'services: {a: {image: x}}\n---\nservices: {}\n'),
      /^c\.yaml:2:1: a compose file holds one YAML document/,
    );
  });
});

describe('the override file', () => {
  const labels = { 'dev.infra-sandbox.sandbox': 'lab' };

  it('labels every service, the declared volumes and networks (copied whole) and the implicit default network', () => {
    const model = parseComposeText(
      'c.yaml',
      'version: "2.4"\nservices:\n  a: {image: x}\n  b: {image: x, networks: [back]}\nvolumes:\n  data: {driver: local, labels: {keep: "1"}}\n  ext: {external: true}\nnetworks:\n  back: {driver: bridge}\n',
    );
    const text = composeOverride(model, labels);
    assert.match(text, /^# Written by Infra Sandbox/);
    const parsed = parseComposeText('o.yaml', text);
    assert.equal(parsed.version, '2.4');
    assert.deepEqual(
      parsed.services.map((s) => [s.name, s.labels]),
      [
        ['a', labels],
        ['b', labels],
      ],
    );
    assert.deepEqual(parsed.volumes, { data: { driver: 'local', labels: { keep: '1', ...labels } } });
    assert.deepEqual(parsed.networks, { back: { driver: 'bridge', labels }, default: { labels } });
  });

  it('adds no default network when every service has its own, and no version when the template has none', () => {
    const model = parseComposeText('c.yaml', 'services:\n  a: {image: x, network_mode: host}\n');
    const parsed = parseComposeText('o.yaml', composeOverride(model, labels));
    assert.equal(parsed.version, undefined);
    assert.deepEqual(parsed.networks, {});
  });

  it('labels: a mapping or a list of key=value', () => {
    assert.deepEqual(labelMap({ a: 1, b: null }), { a: '1', b: '' });
    assert.deepEqual(labelMap(['a=1', 'flag']), { a: '1', flag: '' });
    assert.deepEqual(labelMap(undefined), {});
  });
});

describe('Compose commands (built, not run)', () => {
  const files = ['/t/compose.yaml', '/w/.infra-sandbox/compose/lab.override.yaml'];
  const pf = ['-p', 'isb-lab', '-f', files[0], '-f', files[1]];

  it('v1, v2 and podman take the same arguments after their own prefix', () => {
    assert.deepEqual(composeUp({ tool: DOCKER_COMPOSE_V1, project: 'isb-lab', files }), {
      command: 'docker-compose',
      args: [...pf, 'up', '-d'],
    });
    assert.deepEqual(composeUp({ tool: DOCKER_COMPOSE_V2, project: 'isb-lab', files }).args, [
      'compose',
      ...pf,
      'up',
      '-d',
    ]);
    assert.equal(composeUp({ tool: PODMAN_COMPOSE, project: 'isb-lab', files }).command, 'podman');
  });

  it('stop keeps volumes, start starts, down removes volumes and orphans', () => {
    const p = { tool: DOCKER_COMPOSE_V1, project: 'isb-lab', files };
    assert.deepEqual(composeStop(p).args, [...pf, 'stop']);
    assert.deepEqual(composeStart(p).args, [...pf, 'start']);
    assert.deepEqual(composeDown(p).args, [...pf, 'down', '-v', '--remove-orphans']);
    assert.deepEqual(composeCommand(p, ['config', '-q']).args, [...pf, 'config', '-q']);
  });
});

function container(over: Partial<ContainerDetails> & { service: string }): ContainerDetails {
  return {
    id: `${over.service}${over.containerNumber ?? 1}`.padEnd(12, '0'),
    name: `isb-lab_${over.service}_${over.containerNumber ?? 1}`,
    image: 'img',
    labels: {},
    state: 'running',
    exitCode: 0,
    restartPolicy: 'no',
    tty: false,
    containerNumber: 1,
    project: 'isb-lab',
    networks: [{ name: 'isb-lab_default', ipv4: '172.18.0.2' }],
    ports: [],
    ...over,
  };
}

describe('inventory of the nodes', () => {
  it('N is the highest node number in groups, 3 without groups', () => {
    assert.equal(nodeCount(undefined), 3);
    assert.equal(nodeCount({}), 3);
    assert.equal(nodeCount({ a: [1], b: [2, 5] }), 5);
  });

  it('nodes are the labelled containers in container-number order, with the production groups', () => {
    const label = { [ANSIBLE_NODE_LABEL]: 'true' };
    const nodes = nodeContainers([
      container({ service: 'node', containerNumber: 10, labels: label }),
      container({ service: 'db' }),
      container({ service: 'node', containerNumber: 2, labels: label }),
      container({ service: 'node', containerNumber: 1, labels: label }),
    ]);
    assert.deepEqual(
      nodes.map((n) => n.containerNumber),
      [1, 2, 10],
    );
    const text = renderInventory(nodes, {
      sandbox: 'lab',
      template: 'compose/nodes',
      groups: { k3s_server: [1], agents: [2, 3, 4] },
    });
    assert.equal(
      text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
      [
        'lab-node-1 ansible_host=isb-lab_node_1 ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3',
        'lab-node-2 ansible_host=isb-lab_node_2 ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3',
        'lab-node-3 ansible_host=isb-lab_node_10 ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3',
        '',
        '[k3s_server]',
        'lab-node-1',
        '',
        '[agents]',
        'lab-node-2',
        'lab-node-3',
        '',
      ].join('\n'),
    );
    assert.match(text, /# node 4 does not exist \(this sandbox has 3\)/);
    assert.match(
      renderInventory(nodes.slice(0, 1), { sandbox: 'lab', template: 't', dockerHost: 'tcp://127.0.0.1:2375' }),
      /ansible_docker_extra_args="-H tcp:\/\/127\.0\.0\.1:2375"$/m,
    );
  });
});

describe('status and readiness', () => {
  it('member names: the service, or service-N when scaled', () => {
    const one = [container({ service: 'db' })];
    assert.equal(memberName(one[0], one), 'db');
    const two = [
      container({ service: 'node', containerNumber: 1 }),
      container({ service: 'node', containerNumber: 2 }),
    ];
    assert.equal(memberName(two[1], two), 'node-2');
  });

  it('absent, stopped, creating, running and degraded', () => {
    const state = (cs: ContainerDetails[], expected?: string[]) => composeStatus('lab', cs, expected, {}).state;
    assert.equal(state([]), 'absent');
    assert.equal(state([container({ service: 'a', state: 'exited', exitCode: 143 })]), 'stopped');
    assert.equal(state([container({ service: 'a', health: 'starting' })]), 'creating');
    assert.equal(
      state([container({ service: 'a', health: 'healthy' }), container({ service: 'job', state: 'exited' })]),
      'running',
    );
    assert.equal(state([container({ service: 'a', health: 'unhealthy' })]), 'degraded');
    assert.equal(
      state([container({ service: 'a' }), container({ service: 'b', state: 'exited', exitCode: 1 })]),
      'degraded',
    );
    const missing = composeStatus('lab', [container({ service: 'a' })], ['a', 'b'], {});
    assert.equal(missing.state, 'degraded');
    assert.deepEqual(
      missing.members.map((m) => [m.name, m.state]),
      [
        ['a', 'running'],
        ['b', 'missing'],
      ],
    );
  });

  it('members carry state, health, image, addresses and ports', () => {
    const s = composeStatus(
      'lab',
      [container({ service: 'db', health: 'healthy', ports: ['127.0.0.1:5432->5432/tcp'] })],
      ['db'],
      {},
    );
    assert.deepEqual(s.members[0], {
      name: 'db',
      role: 'db',
      state: 'running',
      health: 'healthy',
      image: 'img',
      addresses: ['172.18.0.2'],
      ports: ['127.0.0.1:5432->5432/tcp'],
      id: 'db1000000000',
    });
  });

  it('ready when all run and are healthy; waiting on starting health; failed on unhealthy, exit or restarts', () => {
    assert.deepEqual(
      readiness([container({ service: 'a', health: 'healthy' }), container({ service: 'b' })], ['a', 'b']),
      { kind: 'ready' },
    );
    assert.deepEqual(readiness([container({ service: 'a', health: 'starting' })], ['a', 'b']), {
      kind: 'waiting',
      waitingFor: ['b (no container yet)', 'a (health: starting)'],
    });
    const failed = (cs: ContainerDetails[]) => {
      const r = readiness(cs, ['a']);
      return r.kind === 'failed' ? `${r.member} ${r.reason}` : r.kind;
    };
    assert.equal(
      failed([container({ service: 'a', health: 'unhealthy', lastHealthOutput: 'refused\nmore' })]),
      'a is unhealthy (last check: refused)',
    );
    assert.equal(failed([container({ service: 'a', state: 'exited', exitCode: 3 })]), 'a exited (code 3)');
    assert.equal(
      failed([container({ service: 'a', state: 'restarting', exitCode: 1 })]),
      'a keeps restarting (last exit code 1)',
    );
    assert.equal(failed([container({ service: 'a', state: 'exited', exitCode: 0 })]), 'ready'); // a one-shot job that finished
  });
});

describe('log frames', () => {
  const frame = (type: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = type;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it('demultiplexes stdout and stderr frames, also when split across chunks', () => {
    const all = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'err line\n'), frame(1, 'o\nlast')]);
    const splitter = new LogSplitter(false);
    const lines = [];
    for (let i = 0; i < all.length; i += 5) lines.push(...splitter.push(all.subarray(i, i + 5)));
    lines.push(...splitter.end());
    assert.deepEqual(lines, [
      { stream: 'stdout', line: 'one' },
      { stream: 'stderr', line: 'err line' },
      { stream: 'stdout', line: 'two' },
      { stream: 'stdout', line: 'last' },
    ]);
  });

  it('a TTY container logs raw text', () => {
    const splitter = new LogSplitter(true);
    assert.deepEqual(
      [...splitter.push(Buffer.from('a\r\nb')), ...splitter.end()],
      [
        { stream: 'stdout', line: 'a' },
        { stream: 'stdout', line: 'b' },
      ],
    );
  });
});

describe('DOCKER_HOST', () => {
  it('default socket, unix, tcp, ssh; the env given wins over the process environment', () => {
    const def = dockerEndpoint({});
    assert.match(def.display, /^unix:\/\/.*docker\.sock$/);
    assert.ok('host' in def.options && def.options.host === undefined);
    assert.deepEqual(dockerEndpoint({ DOCKER_HOST: 'unix:///run/podman.sock' }), {
      display: 'unix:///run/podman.sock',
      options: { socketPath: '/run/podman.sock', host: undefined },
    });
    const tcp = dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' });
    assert.equal(tcp.options.protocol, 'http');
    assert.equal(tcp.options.host, '127.0.0.1');
    assert.equal(tcp.options.port, '2375');
    const ssh = dockerEndpoint({ DOCKER_HOST: 'ssh://ops@builder.example.test' });
    assert.equal(ssh.options.protocol, 'ssh');
    assert.equal(ssh.options.username, 'ops');
  });

  it('an address it cannot use is exit 2', () => {
    rejects(() => dockerEndpoint({ DOCKER_HOST: 'fd://3' }), /scheme fd: is not supported/);
  });
});
