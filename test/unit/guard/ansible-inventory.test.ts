import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ansibleInventoryCommand,
  ansibleInventoryEnv,
  inventoryFromListing,
  unparsedProblems,
} from '../../../src/core/guard/ansible/ansibleInventory';
import { expandRanges } from '../../../src/core/guard/ansible/hostPattern';
import { loadInventory, type Inventory } from '../../../src/core/guard/ansible/inventory';
import { pyValue, shlexSplit } from '../../../src/core/guard/ansible/pyLiteral';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '../../fixtures/inventories');
const fx = (...p: string[]) => join(FIXTURES, ...p);

async function load(...sources: string[]): Promise<Inventory> {
  return loadInventory(sources, { cwd: FIXTURES });
}

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('built-in inventory parser: INI', () => {
  it('reads ungrouped hosts, groups, ranges (padded, stride, letters, several per name) and ports', async () => {
    const inv = await load('ini/hosts.ini');
    assert.deepEqual(inv.problems, []);
    assert.deepEqual(
      [...inv.hosts.keys()],
      [
        'bastion.example.test',
        'jump.example.test',
        'web01.example.test',
        'web02.example.test',
        'web03.example.test',
        'web-canary',
        'db-a',
        'db-b',
        'db-c',
        'odd1',
        'odd3',
        'odd5',
        'odd7',
        'odd9',
        'edge-1-a',
        'edge-1-b',
        'edge-2-a',
        'edge-2-b',
      ],
    );
    assert.deepEqual(inv.groups.get('ungrouped')?.hosts, ['bastion.example.test', 'jump.example.test']);
    assert.equal(inv.hosts.get('jump.example.test')?.vars.ansible_port, 2222);
    assert.deepEqual(inv.groups.get('app')?.children, ['web', 'db']);
    assert.deepEqual(inv.groups.get('all')?.children, ['ungrouped', 'edge', 'app']);
  });

  it('reads inline variables with shlex quoting and Python literals, and strips comments', async () => {
    const inv = await load('ini/hosts.ini');
    const canary = inv.hosts.get('web-canary')?.vars;
    assert.equal(canary?.ansible_host, '198.51.100.7');
    assert.equal(canary?.http_port, 8080);
    assert.equal(canary?.note, 'two words');
    assert.equal(canary?.canary, true);
    assert.equal(canary?.proxy, 'squid');
    assert.equal(inv.hosts.get('bastion.example.test')?.vars.ansible_host, '203.0.113.10');
    assert.equal(inv.hosts.get('db-b')?.vars.ansible_user, 'postgres');
    assert.equal(inv.hosts.get('db-b')?.vars.env, 'production');
  });

  it('keeps file:line for every host and for the variable that sets ansible_host', async () => {
    const inv = await load('ini/hosts.ini');
    const file = fx('ini/hosts.ini');
    assert.deepEqual(inv.hosts.get('bastion.example.test')?.definedAt, { file, line: 2 });
    assert.deepEqual(inv.hosts.get('web02.example.test')?.definedAt, { file, line: 6 });
    assert.deepEqual(inv.hosts.get('odd7')?.definedAt, { file, line: 11 });
    assert.deepEqual(inv.hosts.get('web-canary')?.varSources.ansible_host, { file, line: 7 });
    // host_vars/web02.example.test.yml line 2 moves web02 elsewhere.
    assert.equal(inv.hosts.get('web02.example.test')?.vars.ansible_host, '192.0.2.22');
    assert.deepEqual(inv.hosts.get('web02.example.test')?.varSources.ansible_host, {
      file: fx('ini/host_vars/web02.example.test.yml'),
      line: 2,
    });
    assert.deepEqual(inv.hosts.get('web01.example.test')?.varSources.env, { file, line: 26 });
  });
});

describe('built-in inventory parser: variable precedence', () => {
  it('all < parent < child < host inventory vars < host_vars; group_vars files beat inventory group vars', async () => {
    const inv = await load('precedence/hosts.ini');
    assert.deepEqual(inv.problems, []);
    const [h1, h2, h3] = ['h1', 'h2', 'h3'].map((h) => inv.hosts.get(h)?.vars ?? {});
    assert.equal(h2.level, 'child'); // child group beats parent beats all
    assert.equal(h2.from_parent, 'yes');
    assert.equal(h1.level, 'host-inventory'); // inventory host vars beat every group
    assert.equal(h1.hostonly, 'file'); // host_vars/h1.yml beats inventory host vars
    assert.equal(h2.filelevel, 'child-file'); // group_vars/child.yml beats group_vars/parent.yml
    // Ansible's order puts group_vars/all after every group's inventory vars.
    assert.equal(h2.shadow, 'all-file');
    assert.deepEqual(inv.hosts.get('h2')?.varSources.shadow, { file: fx('precedence/group_vars/all.yml'), line: 3 });
    // ansible_group_priority=10 lets aaa win over zzz at the same depth (by name zzz would win).
    assert.equal(h3.prio, 'aaa');
    // The order group variables apply in: by depth, then priority, then name.
    assert.deepEqual(inv.hosts.get('h3')?.groups, ['all', 'parent', 'zzz', 'aaa', 'child']);
  });

  it('reads playbook-directory group_vars/host_vars after the inventory ones', async () => {
    const dir = write(tempDir('inv-basedir'), {
      'inventory/hosts.ini': '[web]\nw1\n',
      'inventory/group_vars/web.yml': 'port: 1\nwho: inventory\n',
      'playbooks/group_vars/web.yml': 'port: 2\n',
      'playbooks/host_vars/w1.yml': 'who: playbook\n',
    });
    const inv = await loadInventory(['inventory/hosts.ini'], { cwd: dir, basedirs: ['playbooks'] });
    assert.deepEqual(inv.hosts.get('w1')?.vars, { port: 2, who: 'playbook' });
  });
});

describe('built-in inventory parser: YAML', () => {
  it('reads nested children, ranges in host keys, null hosts, string hosts and flow mappings', async () => {
    const inv = await load('yaml/hosts.yml');
    assert.deepEqual(inv.problems, []);
    assert.deepEqual([...inv.hosts.keys()].sort(), [
      '192.0.2.50',
      'controller',
      'nas.example.test',
      'node-a',
      'node-b',
      'node1',
      'node2',
    ]);
    assert.deepEqual(inv.groups.get('k3s_cluster')?.children, ['server', 'agent']);
    assert.deepEqual(inv.groups.get('empty_group')?.hosts, []);
    assert.equal(inv.hosts.get('node2')?.vars.k3s_role, 'server');
    assert.equal(inv.hosts.get('node2')?.vars.k3s_version, 'v1.31.4');
    assert.equal(inv.hosts.get('node2')?.vars.ansible_user, 'deploy');
    assert.equal(inv.hosts.get('controller')?.vars.ansible_connection, 'local');
    assert.equal(inv.hosts.get('node-b')?.vars.ansible_ssh_host, '10.10.0.12');
  });

  it('tracks lines from the YAML source', async () => {
    const inv = await load('yaml/hosts.yml');
    const file = fx('yaml/hosts.yml');
    assert.deepEqual(inv.hosts.get('node1')?.definedAt, { file, line: 15 });
    assert.deepEqual(inv.hosts.get('node1')?.varSources.ansible_host, { file, line: 24 });
    assert.deepEqual(inv.hosts.get('node-b')?.varSources.ansible_host, { file, line: 25 });
    assert.deepEqual(inv.hosts.get('controller')?.varSources.ansible_connection, { file, line: 7 });
  });
});

describe('built-in inventory parser: directories and inline lists', () => {
  it('reads every file Ansible would (INI without extension, YAML), skipping .ini, .md and hidden files', async () => {
    const inv = await load('dir');
    assert.deepEqual(inv.problems, []);
    assert.deepEqual([...inv.hosts.keys()], ['app1', 'app2', 'vm1']);
    assert.equal(inv.groups.has('legacy'), false);
    assert.equal(inv.groups.has('hidden'), false);
  });

  it('reads group_vars/NAME/ directories and extensionless host_vars files inside the inventory directory', async () => {
    const inv = await load('dir');
    assert.deepEqual(inv.hosts.get('app1')?.vars, { app_port: 8080, ansible_user: 'app', ansible_host: '192.0.2.11' });
    assert.deepEqual(inv.hosts.get('app1')?.varSources.ansible_host, { file: fx('dir/host_vars/app1'), line: 2 });
    assert.deepEqual(inv.hosts.get('app2')?.varSources.ansible_user, {
      file: fx('dir/group_vars/app/connection.yml'),
      line: 2,
    });
  });

  it('reads an inline host list: names, addresses, ports', async () => {
    const inv = await load('web1.example.test, 192.0.2.7:2222,[2001:db8::1]:22,');
    assert.deepEqual([...inv.hosts.keys()], ['web1.example.test', '192.0.2.7', '2001:db8::1']);
    assert.equal(inv.hosts.get('192.0.2.7')?.vars.ansible_port, 2222);
    assert.deepEqual(inv.groups.get('ungrouped')?.hosts, ['web1.example.test', '192.0.2.7', '2001:db8::1']);
  });

  it('an executable inventory script is a problem for the built-in parser (it never runs programs)', async () => {
    const dir = tempDir('inv-script');
    writeFileSync(join(dir, 'inventory.py'), '#!/usr/bin/env python3\nprint("{}")\n', { mode: 0o755 });
    const inv = await loadInventory(['inventory.py'], { cwd: dir });
    assert.equal(inv.problems.length, 1);
    assert.match(inv.problems[0].message, /executable inventory script/);
    assert.deepEqual(inv.unevaluated, [join(dir, 'inventory.py')]);
  });

  it('a constructed plugin config is noted and marked as not evaluated; another plugin is a problem', async () => {
    const dir = write(tempDir('inv-plugin'), {
      'inv/hosts': '[web]\nw1\n',
      'inv/zz-constructed.yml': 'plugin: constructed\nkeyed_groups:\n  - key: os\n',
      'aws_ec2.yml': 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n',
      'odd/constructed.config': 'plugin: constructed\ngroups:\n  x: true\n',
    });
    const inv = await loadInventory(['inv', 'aws_ec2.yml', 'odd'], { cwd: dir });
    assert.deepEqual([...inv.hosts.keys()], ['w1']);
    assert.equal(inv.unevaluated.length, 2);
    assert.equal(inv.problems.length, 1);
    assert.match(inv.problems[0].message, /inventory plugin "amazon\.aws\.aws_ec2".*cannot be evaluated/);
    assert.ok(inv.notes.some((n) => n.includes('zz-constructed.yml') && /not evaluated/.test(n)));
    // Ansible only reads plugin configs from .yml/.yaml files: it skips this one, and so do we.
    assert.ok(inv.notes.some((n) => n.includes('constructed.config') && /ignored, as Ansible does/.test(n)));
  });
});

describe('built-in inventory parser: bad input is a problem at file:line, never a throw', () => {
  it('broken YAML', async () => {
    const inv = await load('malformed/broken.yml');
    assert.equal(inv.problems.length, 1);
    assert.equal(inv.problems[0].file, fx('malformed/broken.yml'));
    assert.equal(inv.problems[0].line, 5);
    assert.match(inv.problems[0].message, /YAML syntax error/);
  });

  it('a bad INI range (what came before stays, as in Ansible)', async () => {
    const inv = await load('malformed/bad-range.ini');
    assert.deepEqual(inv.problems, [
      {
        file: fx('malformed/bad-range.ini'),
        line: 3,
        message: 'host range must specify equal-length begin and end formats',
      },
    ]);
    assert.deepEqual([...inv.hosts.keys()], ['web1']);
  });

  it('a child group never declared, at the line that names it', async () => {
    const inv = await load('malformed/undefined-child.ini');
    assert.deepEqual(inv.problems, [
      {
        file: fx('malformed/undefined-child.ini'),
        line: 2,
        message: 'Section [parent:children] includes undefined group: ghost',
      },
    ]);
  });

  it('a YAML inventory with a list where a mapping belongs', async () => {
    const inv = await load('malformed/bad-structure.yml');
    assert.equal(inv.problems[0].line, 2);
    assert.match(inv.problems[0].message, /Invalid "hosts" entry for "web" group, requires a dictionary, found "list"/);
  });

  it('a broken host_vars file', async () => {
    const inv = await load('malformed/bad-vars/hosts.ini');
    assert.equal(inv.problems.length, 1);
    assert.equal(inv.problems[0].file, fx('malformed/bad-vars/host_vars/h1.yml'));
    assert.equal(inv.problems[0].line, 3);
    assert.equal(inv.hosts.get('h2')?.vars.ansible_host, '192.0.2.2');
  });

  it('missing and unreadable sources; more INI mistakes', async () => {
    const dir = write(tempDir('inv-bad'), {
      'sections.ini': '[web]\nw1\n[web:weird]\nx\n',
      'spaces.ini': '[web servers]\nw1\n',
      'vars.ini': '[lonely:vars]\nport=1\n', // groups are shared across sources: `web` exists by now
      'quote.ini': '[web]\nw1 note="unclosed\n',
      'kv.ini': '[web]\nw1 just-a-word\n',
    });
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.ini'));
    const inv = await loadInventory(
      ['missing.ini', 'dangling.ini', 'sections.ini', 'spaces.ini', 'vars.ini', 'quote.ini', 'kv.ini'],
      { cwd: dir },
    );
    const got = inv.problems.map((p) => [p.file.slice(dir.length + 1), p.line, p.message]);
    assert.deepEqual(got, [
      ['missing.ini', 0, 'inventory source not found'],
      ['dangling.ini', 0, 'inventory source not found'],
      ['sections.ini', 3, 'Section [web:weird] has unknown type: weird'],
      [
        'spaces.ini',
        1,
        "Invalid section entry: '[web servers]'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters",
      ],
      ['vars.ini', 1, 'Section [lonely:vars] not valid for undefined group: lonely'],
      ['quote.ini', 2, `Error parsing host definition 'w1 note="unclosed': No closing quotation`],
      ['kv.ini', 2, 'Expected key=value host variable assignment, got: just-a-word'],
    ]);
  });
});

describe('ranges, shlex and Python literals', () => {
  it('expands ranges as Ansible does', () => {
    assert.deepEqual(expandRanges('web[01:03]'), ['web01', 'web02', 'web03']);
    assert.deepEqual(expandRanges('n[1:10:4]'), ['n1', 'n5', 'n9']);
    assert.deepEqual(expandRanges('db-[a:c]'), ['db-a', 'db-b', 'db-c']);
    assert.deepEqual(expandRanges('mail[:2].example.test'), [
      'mail0.example.test',
      'mail1.example.test',
      'mail2.example.test',
    ]);
    assert.deepEqual(expandRanges('r[1:2]c[a:b]'), ['r1ca', 'r1cb', 'r2ca', 'r2cb']);
    assert.throws(() => expandRanges('web[1:]'), /must specify end value/);
    assert.throws(() => expandRanges('web[0:100000000]'), /more than/);
  });

  it('splits host lines like shlex with comments', () => {
    assert.deepEqual(shlexSplit(`h1 a="x y" b='z' c=d#comment`), ['h1', 'a=x y', 'b=z', 'c=d']);
    assert.deepEqual(shlexSplit(String.raw`h1 a="q\"q" b=\#`), ['h1', 'a=q"q', 'b=#']);
  });

  it('evaluates values as Python literals, else keeps the text', () => {
    assert.equal(pyValue('22'), 22);
    assert.equal(pyValue('010'), '010');
    assert.equal(pyValue('10.0.0.1'), '10.0.0.1');
    assert.equal(pyValue('True'), true);
    assert.equal(pyValue('None'), null);
    assert.equal(pyValue("'pi'  # user"), 'pi');
    assert.deepEqual(pyValue("['a', 1]"), ['a', 1]);
    assert.deepEqual(pyValue("{'k': (1, 2)}"), { k: [1, 2] });
    assert.equal(pyValue('{{ lookup("env", "X") }}'), '{{ lookup("env", "X") }}');
  });
});

describe('built-in inventory parser: size', () => {
  it('reads a 5,000-host INI inventory', async () => {
    const dir = tempDir('inv-big');
    const lines = ['[nodes]'];
    for (let i = 0; i < 5000; i++)
      lines.push(`node${i} ansible_host=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    writeFileSync(join(dir, 'hosts.ini'), `${lines.join('\n')}\n`);
    const inv = await loadInventory(['hosts.ini'], { cwd: dir });
    assert.equal(inv.hosts.size, 5000);
    assert.equal(inv.hosts.get('node4999')?.vars.ansible_host, '10.0.19.135');
  });
});

describe('ansible-inventory: command, environment and output (no process)', () => {
  it('builds `ansible-inventory -i … --list [--playbook-dir D]`', () => {
    const spec = ansibleInventoryCommand(['/inv/hosts.ini', 'a,b,'], '/play');
    assert.equal(spec.command, 'ansible-inventory');
    assert.deepEqual(spec.args, ['-i', '/inv/hosts.ini', '-i', 'a,b,', '--list', '--playbook-dir', '/play']);
  });

  it('keeps the user ANSIBLE_* settings but writes nothing of theirs and never prompts', () => {
    const env = ansibleInventoryEnv(
      {
        PATH: '/usr/bin',
        ANSIBLE_CONFIG: '/x/ansible.cfg',
        ANSIBLE_LOG_PATH: '/home/u/ansible.log',
        ANSIBLE_FORCE_COLOR: '1',
      },
      '/tmp/isb-x',
    );
    assert.equal(env.ANSIBLE_CONFIG, '/x/ansible.cfg');
    assert.equal(env.ANSIBLE_LOG_PATH, '/dev/null');
    assert.equal(env.ANSIBLE_LOCAL_TEMP, '/tmp/isb-x');
    assert.equal(env.ANSIBLE_INVENTORY_CACHE, 'False');
    assert.equal(env.ANSIBLE_ASK_VAULT_PASS, 'False');
    assert.equal(env.PYTHONDONTWRITEBYTECODE, '1');
    assert.equal(env.ANSIBLE_FORCE_COLOR, undefined);
  });

  it('reads recorded `--list` output into the same model, with lines from the built-in parser', async () => {
    const listing: unknown = JSON.parse(readFileSync(fx('recorded/yaml-hosts.list.json'), 'utf8'));
    const builtin = await load('yaml/hosts.yml');
    const inv = inventoryFromListing(listing, builtin, [fx('yaml/hosts.yml')]);
    assert.deepEqual([...inv.hosts.keys()], [...builtin.hosts.keys()]);
    for (const [name, h] of inv.hosts) {
      assert.deepEqual(h.vars, builtin.hosts.get(name)?.vars, name);
      assert.deepEqual(h.groups, builtin.hosts.get(name)?.groups, name);
      assert.deepEqual(h.definedAt, builtin.hosts.get(name)?.definedAt, name);
    }
    assert.deepEqual(inv.hosts.get('node1')?.varSources.ansible_host, { file: fx('yaml/hosts.yml'), line: 24 });
    assert.deepEqual(inv.groups.get('k3s_cluster')?.children, ['server', 'agent']);
    // Without the built-in parser: no lines, but the same hosts and variables.
    const bare = inventoryFromListing(listing, undefined, [fx('yaml/hosts.yml')]);
    assert.equal(bare.hosts.get('node-b')?.vars.ansible_ssh_host, '10.10.0.12');
    assert.deepEqual(bare.hosts.get('node-b')?.definedAt, { file: fx('yaml/hosts.yml'), line: 0 });
  });

  it('turns "Unable to parse" warnings (wrapped at 79 columns) into problems, with the built-in line', async () => {
    const file = fx('malformed/bad-range.ini');
    const builtin = await load('malformed/bad-range.ini');
    const cut = file.lastIndexOf('-') + 1;
    const stderr = [
      '[WARNING]:  * Failed to parse',
      `${file} with ini plugin:`,
      'host range must specify equal-length begin and end formats',
      `[WARNING]: Unable to parse ${file.slice(0, cut)}`,
      `${file.slice(cut)} as an inventory source`,
      '[WARNING]: No inventory was parsed, only implicit localhost is available',
    ].join('\n');
    assert.deepEqual(unparsedProblems(stderr, builtin), builtin.problems);
    assert.deepEqual(unparsedProblems(stderr, { ...builtin, problems: [] }), [
      { file, line: 0, message: 'ansible-inventory could not parse this inventory source' },
    ]);
  });
});
