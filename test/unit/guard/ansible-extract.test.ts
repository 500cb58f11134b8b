import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractAnsible } from '../../../src/core/guard/ansible/extract';
import type { ExtractContext, Extraction, Target } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '../../fixtures/inventories');
const fx = (...p: string[]) => join(FIXTURES, ...p);

/** A context with no ANSIBLE_* or DOCKER_* variables and an empty home (no ~/.ansible.cfg). */
function ctx(over: Partial<ExtractContext> = {}): ExtractContext {
  return {
    cwd: FIXTURES,
    env: { PATH: '/usr/bin:/bin' },
    home: tempDir('ansible-home'),
    inventoryParser: 'builtin',
    ...over,
  };
}

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const run = (argv: string[], c: ExtractContext = ctx()): Promise<Extraction> => extractAnsible(argv, c);
const names = (r: Extraction) => r.targets.map((t) => t.name);
const view = (targets: Target[]) => targets.map((t) => [t.kind, t.name, t.host]);

describe('ansible extractor: command lines', () => {
  for (const form of [
    ['-i', 'ini/hosts.ini'],
    ['-iini/hosts.ini'],
    ['-i=ini/hosts.ini'],
    ['--inventory', 'ini/hosts.ini'],
    ['--inventory=ini/hosts.ini'],
    ['--inventory-file', 'ini/hosts.ini'],
    ['--inventory-f', 'ini/hosts.ini'],
    ['-bKi', 'ini/hosts.ini'],
  ]) {
    it(`reads the inventory from ${form.join(' ')}`, async () => {
      const r = await run(['ansible-playbook', ...form, 'site.yml']);
      assert.deepEqual(r.problems, []);
      assert.equal(r.targets.length, 18);
    });
  }

  it('reads every -i, in order', async () => {
    const r = await run(['ansible-playbook', '-i', 'dir', '-i', 'yaml/hosts.yml', 'site.yml']);
    // Ansible's order (as `ansible all --list-hosts` prints it): `all`'s own hosts, then its children
    // level by level — the YAML `all: children:` first, then the groups reconciled under `all`.
    const order = [
      'controller',
      'node1',
      'node-b',
      'nas.example.test',
      'app1',
      'app2',
      'vm1',
      'node2',
      'node-a',
      '192.0.2.50',
    ];
    assert.deepEqual(names(r), order);
  });

  it('an ambiguous option prefix is noted, not guessed', async () => {
    const r = await run(['ansible-playbook', '--inv', 'ini/hosts.ini', 'site.yml']);
    assert.ok(r.notes.some((n) => /argv\[1\] --inv is ambiguous/.test(n)));
  });

  it('--limit keeps only the hosts it selects, and says so', async () => {
    const r = await run(['ansible-playbook', '-i', 'ini/hosts.ini', '--limit=web-canary', 'site.yml']);
    assert.deepEqual(r.targets, [
      {
        kind: 'host',
        name: 'web-canary',
        host: '198.51.100.7',
        source: { kind: 'file', file: fx('ini/hosts.ini'), line: 7 },
        chain: ['web-canary', 'ansible_host 198.51.100.7 (ini/hosts.ini:7)'],
      },
    ]);
    assert.ok(r.notes.includes('--limit web-canary kept 1 of 18 hosts'));
    const narrowed = await run(['ansible-playbook', '-i', 'ini/hosts.ini', '-l', 'db:&app:!db-b:!odd*', 'x.yml']);
    assert.deepEqual(names(narrowed), ['db-a', 'db-c']);
  });

  it('the host pattern of `ansible` (first positional, wherever it is) selects hosts', async () => {
    const edge = ['edge-1-a', 'edge-1-b', 'edge-2-a', 'edge-2-b'];
    assert.deepEqual(names(await run(['ansible', '-i', 'ini/hosts.ini', 'edge', '-m', 'ping'])), edge);
    assert.deepEqual(names(await run(['ansible', '-m', 'ping', '-a', 'data=x', 'edge', '-i', 'ini/hosts.ini'])), edge);
    assert.deepEqual(names(await run(['ansible', '-i', 'ini/hosts.ini', 'edge', '-l', '*-a'])), [
      'edge-1-a',
      'edge-2-a',
    ]);
  });

  it('an inline host list: each host points at its -i argument', async () => {
    const r = await run(['ansible', 'all', '-i', 'web1.example.test,192.0.2.7:2222,', '-m', 'ping']);
    assert.deepEqual(view(r.targets), [
      ['host', 'web1.example.test', 'web1.example.test'],
      ['host', '192.0.2.7', '192.0.2.7'],
    ]);
    assert.deepEqual(r.targets[0].source, { kind: 'argv', argIndex: 3 });
  });

  it('commands that only list or check connect to nothing', async () => {
    for (const flag of ['--list-hosts', '--syntax-check', '--list-tasks', '--version']) {
      const r = await run(['ansible-playbook', '-i', 'ini/hosts.ini', flag, 'site.yml']);
      assert.deepEqual(r.targets, [], flag);
    }
  });

  it('the argv `guard check --inventory` builds (ansible-inventory with --limit) selects hosts too', async () => {
    const r = await run(['ansible-inventory', '-i', 'ini/hosts.ini', '--limit', 'db', '--list']);
    assert.deepEqual(names(r), ['db-a', 'db-b', 'db-c', 'odd1', 'odd3', 'odd5', 'odd7', 'odd9']);
  });
});

describe('ansible extractor: where the inventory comes from', () => {
  it('$ANSIBLE_INVENTORY: comma-separated paths, relative to the working folder', async () => {
    const r = await run(['ansible-playbook', 'site.yml'], ctx({ env: { ANSIBLE_INVENTORY: 'yaml/hosts.yml, dir' } }));
    assert.equal(r.targets.length, 10);
    assert.ok(r.notes.includes('inventory from $ANSIBLE_INVENTORY: yaml/hosts.yml, dir'));
  });

  it('-i wins over $ANSIBLE_INVENTORY', async () => {
    const r = await run(
      ['ansible-playbook', '-i', 'dir', 'site.yml'],
      ctx({ env: { ANSIBLE_INVENTORY: 'yaml/hosts.yml' } }),
    );
    assert.deepEqual(names(r), ['app1', 'app2', 'vm1']);
  });

  it('ansible.cfg [defaults] inventory, relative to the file; $ANSIBLE_CONFIG names it', async () => {
    const project = write(tempDir('ansible-cfg'), {
      'ops/ansible.cfg':
        '[defaults]\ninventory = ./inventory/hosts ; the production inventory\nhost_key_checking = True\n',
      'ops/inventory/hosts': '[db]\ndb1 ansible_host=192.0.2.31\n',
    });
    const elsewhere = tempDir('ansible-cwd');
    const r = await run(
      ['ansible-playbook', 'site.yml'],
      ctx({ cwd: elsewhere, env: { ANSIBLE_CONFIG: join(project, 'ops') } }),
    );
    assert.deepEqual(view(r.targets), [['host', 'db1', '192.0.2.31']]);
    assert.deepEqual(r.targets[0].source, { kind: 'file', file: join(project, 'ops/inventory/hosts'), line: 2 });
    // ./ansible.cfg in the working folder, found without $ANSIBLE_CONFIG
    const r2 = await run(['ansible-playbook', 'site.yml'], ctx({ cwd: join(project, 'ops') }));
    assert.deepEqual(names(r2), ['db1']);
  });

  it('~/.ansible.cfg; an ansible.cfg in a world-writable folder is ignored, as Ansible does', async () => {
    const home = write(tempDir('ansible-home-cfg'), {
      '.ansible.cfg': '[defaults]\ninventory = ~/inv.ini\n',
      'inv.ini': 'home1\n',
    });
    const open = write(tempDir('ansible-open'), {
      'ansible.cfg': '[defaults]\ninventory = hosts\n',
      hosts: 'planted\n',
    });
    chmodSync(open, 0o777);
    const r = await run(['ansible-playbook', 'site.yml'], ctx({ cwd: open, home }));
    assert.deepEqual(names(r), ['home1']);
  });

  it('no inventory anywhere: only the implicit localhost', { skip: existsSync('/etc/ansible/hosts') }, async () => {
    const r = await run(['ansible-playbook', 'site.yml'], ctx({ cwd: tempDir('ansible-empty') }));
    assert.deepEqual(r.targets, []);
    assert.ok(r.notes.some((n) => /only the implicit localhost/.test(n)));
    const local = await run(['ansible', 'localhost', '-m', 'ping'], ctx({ cwd: tempDir('ansible-empty') }));
    assert.deepEqual(view(local.targets), [['local', 'localhost', undefined]]);
  });

  it('the playbook directory group_vars/host_vars apply to ansible-playbook (not to ad-hoc ansible)', async () => {
    const dir = write(tempDir('ansible-playdir'), {
      'inventory/hosts.ini': '[web]\nw1\n',
      'playbooks/site.yml': '- hosts: all\n  tasks: []\n',
      'playbooks/host_vars/w1.yml': 'ansible_host: 192.0.2.44\n',
    });
    const play = await run(['ansible-playbook', '-i', 'inventory/hosts.ini', 'playbooks/site.yml'], ctx({ cwd: dir }));
    assert.deepEqual(view(play.targets), [['host', 'w1', '192.0.2.44']]);
    assert.deepEqual(play.targets[0].chain, ['w1', 'ansible_host 192.0.2.44 (playbooks/host_vars/w1.yml:1)']);
    const adhoc = await run(['ansible', 'all', '-i', 'inventory/hosts.ini', '-m', 'ping'], ctx({ cwd: dir }));
    assert.deepEqual(view(adhoc.targets), [['host', 'w1', 'w1']]);
    const withDir = await run(
      ['ansible', 'all', '-i', 'inventory/hosts.ini', '--playbook-dir', 'playbooks'],
      ctx({ cwd: dir }),
    );
    assert.deepEqual(view(withDir.targets), [['host', 'w1', '192.0.2.44']]);
  });

  it('a broken inventory is a problem with file:line', async () => {
    const r = await run(['ansible-playbook', '-i', 'malformed/bad-range.ini', 'site.yml']);
    assert.deepEqual(r.problems, [
      {
        file: fx('malformed/bad-range.ini'),
        line: 3,
        message: 'host range must specify equal-length begin and end formats',
      },
    ]);
  });
});

describe('ansible extractor: extra vars', () => {
  it('-e key=value overrides ansible_host for every host', async () => {
    const r = await run([
      'ansible-playbook',
      '-i',
      'ini/hosts.ini',
      '-l',
      'web-canary',
      '-e',
      'ansible_host=192.0.2.99 other="a b"',
      'x.yml',
    ]);
    assert.deepEqual(r.targets[0].host, '192.0.2.99');
    assert.deepEqual(r.targets[0].chain, ['web-canary', 'ansible_host 192.0.2.99 (-e argv[6])']);
  });

  it('ansible_ssh_host still beats an extra ansible_host (the last variable of the list wins)', async () => {
    const r = await run([
      'ansible-playbook',
      '-i',
      'yaml/hosts.yml',
      '-l',
      'node-b',
      '-e',
      '{"ansible_host": "192.0.2.98"}',
      'x.yml',
    ]);
    assert.deepEqual(view(r.targets), [['host', 'node-b', '10.10.0.12']]);
    assert.deepEqual(r.targets[0].chain, ['node-b', 'ansible_ssh_host 10.10.0.12 (yaml/hosts.yml:25)']);
  });

  it('-e @file: variables with their file and line', async () => {
    const dir = write(tempDir('ansible-extra'), { 'vars.yml': '---\nansible_host: 192.0.2.97\n' });
    const r = await run(['ansible', 'db-a', '-i', fx('ini/hosts.ini'), '-e', '@vars.yml'], ctx({ cwd: dir }));
    assert.deepEqual(r.targets[0].chain, ['db-a', 'ansible_host 192.0.2.97 (vars.yml:2, -e argv[5])']);
  });

  it('-e ansible_connection=local makes every host local', async () => {
    const r = await run(['ansible-playbook', '-i', 'ini/hosts.ini', '-e', 'ansible_connection=local', 'x.yml']);
    assert.equal(r.targets.length, 18);
    assert.ok(r.targets.every((t) => t.kind === 'local' && t.host === undefined));
  });

  it('bad extra vars are problems', async () => {
    const r = await run([
      'ansible-playbook',
      '-i',
      'ini/hosts.ini',
      '-e',
      './vars.yml',
      '-e',
      '[1, 2]',
      '-e',
      '@missing.yml',
      'x.yml',
    ]);
    assert.deepEqual(
      r.problems.map((p) => p.message.replace(/\(.*\): .*/, '(…)')),
      [
        "Please prepend extra_vars filename './vars.yml' with '@'",
        "Invalid extra vars data supplied. '[1, 2]' could not be made into a dictionary",
        'cannot read extra vars file (…)',
      ],
    );
  });
});

describe('ansible extractor: connections', () => {
  it('ansible_connection=local in the inventory: a local target, with where it was set', async () => {
    const r = await run(['ansible-playbook', '-i', 'yaml/hosts.yml', '-l', 'controller', 'x.yml']);
    assert.deepEqual(r.targets, [
      {
        kind: 'local',
        name: 'controller',
        source: { kind: 'file', file: fx('yaml/hosts.yml'), line: 6 },
        chain: ['controller', 'ansible_connection=local (yaml/hosts.yml:7)'],
      },
    ]);
  });

  it('-c local and $ANSIBLE_TRANSPORT apply where the inventory does not set a connection', async () => {
    const r = await run([
      'ansible-playbook',
      '-i',
      'containers/hosts.yml',
      '-c',
      'local',
      '-l',
      'vm-1:web-container',
      'x.yml',
    ]);
    assert.deepEqual(view(r.targets), [
      ['local', 'vm-1', undefined],
      ['local', 'local Docker engine', undefined],
    ]);
    const t = await run(
      ['ansible-playbook', '-i', 'ini/hosts.ini', '-l', 'db-a', 'x.yml'],
      ctx({ env: { ANSIBLE_TRANSPORT: 'local' } }),
    );
    assert.deepEqual(t.targets[0].chain, ['db-a', 'ansible_connection=local ($ANSIBLE_TRANSPORT)']);
  });

  it('container connections reach their engine, once per engine; ansible_host is a container name, never resolved', async () => {
    const r = await run(['ansible-playbook', '-i', 'containers/hosts.yml', 'x.yml']);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(view(r.targets), [
      ['host', 'vm-1', '192.0.2.90'],
      ['local', 'local Docker engine', undefined], // docker CLI: web-container, worker-container
      ['docker-engine', 'tcp://192.0.2.80:2376', '192.0.2.80'], // docker_api: ansible_docker_docker_host
      ['local', 'local Docker engine', undefined], // podman: pod-1, its local service
      ['docker-engine', 'tcp://docker-prod.example.test:2376', 'docker-prod.example.test'], // docker -H in extra args
    ]);
    assert.match(
      r.targets[1].chain[0],
      /^ansible_connection=community\.docker\.docker \(web-container, worker-container\)/,
    );
    assert.ok(!r.targets.some((t) => t.host === 'prod-web-1'));
    const api = r.targets[2];
    assert.deepEqual(api.source, { kind: 'file', file: fx('containers/hosts.yml'), line: 12 });
    const far = r.targets[4];
    assert.equal(
      far.chain[0],
      'ansible_connection=docker (far-1) with -H tcp://docker-prod.example.test:2376 (containers/hosts.yml:23)',
    );
  });

  it('$DOCKER_HOST and $CONTAINER_HOST move the engines of the CLI connections', async () => {
    const env = {
      DOCKER_HOST: 'tcp://192.0.2.70:2375',
      CONTAINER_HOST: 'ssh://core@192.0.2.71/run/podman/podman.sock',
    };
    const r = await run(
      ['ansible-playbook', '-i', 'containers/hosts.yml', '-l', 'containers:pods', 'x.yml'],
      ctx({ env }),
    );
    assert.deepEqual(view(r.targets), [
      ['docker-engine', 'tcp://192.0.2.70:2375', '192.0.2.70'],
      ['docker-engine', 'ssh://core@192.0.2.71/run/podman/podman.sock', '192.0.2.71'],
    ]);
    assert.deepEqual(r.targets[0].source, { kind: 'env', envVar: 'DOCKER_HOST' });
  });
});

describe('ansible extractor: addresses it cannot know', () => {
  it('simple Jinja ({{ var }}) is filled in; anything else is kept and said so', async () => {
    const dir = write(tempDir('ansible-jinja'), {
      hosts: `h1 ansible_host="{{ inventory_hostname }}.example.test"\nh2 ansible_host="{{ lookup('env', 'X') }}"\nh3 base=192.0.2 ansible_host="{{ base }}.3"\n`,
    });
    const r = await run(['ansible', 'all', '-i', 'hosts'], ctx({ cwd: dir }));
    assert.deepEqual(
      r.targets.map((t) => t.host),
      ['h1.example.test', `{{ lookup('env', 'X') }}`, '192.0.2.3'],
    );
    assert.match(r.targets[1].chain[1], /a Jinja template the guard does not evaluate/);
  });

  it('a vault-encrypted ansible_host is a problem: the guard cannot tell where it points', async () => {
    const dir = write(tempDir('ansible-vault'), {
      'hosts.yml':
        'all:\n  hosts:\n    secret:\n      ansible_host: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n',
    });
    const r = await run(['ansible', 'all', '-i', 'hosts.yml'], ctx({ cwd: dir }));
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].line, 4);
    assert.match(r.problems[0].message, /ansible_host of secret is vault-encrypted/);
  });

  it('a --limit naming a group no evaluated source defines does not narrow when a constructed source was skipped', async () => {
    const dir = write(tempDir('ansible-constructed'), {
      'inv/hosts': '[web]\nw1\nw2\n',
      'inv/groups.yml': 'plugin: constructed\nkeyed_groups:\n  - prefix: distro\n    key: ansible_distribution\n',
    });
    const r = await run(['ansible-playbook', '-i', 'inv', '-l', 'distro_Debian', 'x.yml'], ctx({ cwd: dir }));
    assert.deepEqual(names(r), ['w1', 'w2']);
    assert.ok(r.notes.some((n) => /not evaluated: every host counts/.test(n)));
  });
});
