// The built-in inventory parser against the real `ansible-inventory` (Debian's ansible-core): for
// every fixture inventory and the example homelab's, both must give the same hosts and the same
// variables (ansible_host, ansible_ssh_host, ansible_connection and the rest), the same targets,
// and the host patterns must select what `ansible PATTERN --list-hosts` lists.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ansibleInventoryEnv, readInventory } from '../../../src/core/guard/ansible/ansibleInventory';
import { extractAnsible } from '../../../src/core/guard/ansible/extract';
import { loadInventory, type Inventory } from '../../../src/core/guard/ansible/inventory';
import { selectHosts } from '../../../src/core/guard/ansible/limit';
import { run, which } from '../../../src/core/exec';
import type { ExtractContext } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '../../fixtures/inventories');
const HOMELAB = join(__dirname, '../../../examples/homelab/ansible');
const missing = which('ansible-inventory', process.env.PATH) ? false : 'ansible-inventory is not installed';

/** No ~/.ansible.cfg, no ANSIBLE_* from the machine running the tests. */
const home = tempDir('parity-home');
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };

const INVENTORIES: [name: string, source: string][] = [
  ['ini', join(FIXTURES, 'ini/hosts.ini')],
  ['precedence', join(FIXTURES, 'precedence/hosts.ini')],
  ['yaml', join(FIXTURES, 'yaml/hosts.yml')],
  ['dir', join(FIXTURES, 'dir')],
  ['containers', join(FIXTURES, 'containers/hosts.yml')],
  ['limit', join(FIXTURES, 'limit/hosts.ini')],
  ['malformed/broken.yml', join(FIXTURES, 'malformed/broken.yml')],
  ['malformed/bad-range.ini', join(FIXTURES, 'malformed/bad-range.ini')],
  ['malformed/undefined-child.ini', join(FIXTURES, 'malformed/undefined-child.ini')],
  ['malformed/bad-structure.yml', join(FIXTURES, 'malformed/bad-structure.yml')],
  ['homelab production (ansible.cfg inventory)', join(HOMELAB, 'inventories/production/hosts.ini')],
  ['homelab production directory (hosts.ini is skipped there)', join(HOMELAB, 'inventories/production')],
];

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/** The hosts a command reaches by default, with their variables. */
function reach(inv: Inventory): Map<string, Record<string, unknown>> {
  const hosts = selectHosts(inv, 'all', { cwd: FIXTURES }).hosts;
  return new Map(hosts.map((h) => [h, inv.hosts.get(h)?.vars ?? {}]));
}

describe('built-in inventory parser ≡ ansible-inventory', { skip: missing }, () => {
  for (const [name, source] of INVENTORIES) {
    it(name, async (t) => {
      const builtin = await loadInventory([source], { cwd: FIXTURES });
      const read = await readInventory([source], { cwd: FIXTURES, env, parser: 'ansible' });
      assert.equal(read.parser, 'ansible');
      assert.deepEqual(
        read.inventory.problems.filter((p) => p.file === 'ansible-inventory'),
        [],
        'ansible-inventory itself failed',
      );
      const a = reach(read.inventory);
      const b = reach(builtin);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), 'hosts');
      for (const [host, vars] of a) {
        for (const key of ['ansible_host', 'ansible_ssh_host', 'ansible_connection']) {
          assert.equal(canonical(b.get(host)?.[key]), canonical(vars[key]), `${host}.${key}`);
        }
        assert.equal(canonical(b.get(host)), canonical(vars), `all variables of ${host}`);
      }
      // A source ansible-inventory could not parse is a problem both ways.
      assert.equal(read.inventory.problems.length > 0, builtin.problems.length > 0, 'problems');
      const withHost = [...a.values()].filter((v) => v.ansible_host !== undefined).length;
      const connections = [...new Set([...a.values()].map((v) => String(v.ansible_connection ?? 'ssh')))].sort();
      t.diagnostic(
        `${name}: ${a.size} hosts, ${withHost} with ansible_host, connections ${connections.join('/') || '-'}, ` +
          `${builtin.problems.length} problem(s) — built-in ≡ ansible-inventory`,
      );
    });
  }

  it('a broken host_vars file: ansible-inventory fails, the built-in parser says where', async () => {
    const source = join(FIXTURES, 'malformed/bad-vars/hosts.ini');
    const read = await readInventory([source], { cwd: FIXTURES, env, parser: 'ansible' });
    assert.ok(read.inventory.problems.some((p) => p.file === 'ansible-inventory'));
    assert.ok(read.inventory.problems.some((p) => p.file.endsWith('host_vars/h1.yml') && p.line === 3));
  });
});

describe('extracted targets are the same with either parser', { skip: missing }, () => {
  const cases: [string, string[]][] = [
    ['ini', ['ansible-playbook', '-i', 'ini/hosts.ini', 'site.yml']],
    ['yaml with -e', ['ansible-playbook', '-i', 'yaml/hosts.yml', '-e', 'ansible_user=root', 'site.yml']],
    ['dir + limit', ['ansible', 'app:cloud', '-i', 'dir', '-m', 'ping']],
    ['containers', ['ansible-playbook', '-i', 'containers/hosts.yml', 'site.yml']],
    ['precedence', ['ansible-inventory', '-i', 'precedence/hosts.ini', '--list']],
  ];
  for (const [name, argv] of cases) {
    it(name, async () => {
      const ctx = (inventoryParser: ExtractContext['inventoryParser']): ExtractContext => ({
        cwd: FIXTURES,
        env,
        home,
        inventoryParser,
      });
      const builtin = await extractAnsible(argv, ctx('builtin'));
      const ansible = await extractAnsible(argv, ctx('ansible'));
      assert.ok(ansible.notes.includes('inventory read with ansible-inventory'));
      assert.deepEqual(ansible.problems, builtin.problems);
      assert.deepEqual(ansible.targets, builtin.targets);
    });
  }
});

describe('host patterns select what `ansible --list-hosts` lists', { skip: missing }, () => {
  const inventory = join(FIXTURES, 'limit/hosts.ini');
  const cases: [pattern: string, limit?: string][] = [
    ['all'],
    ['web*'],
    ['prod:&cache'],
    ['prod:!web'],
    ['!web'],
    [String.raw`~(web|db)\d`],
    ['web[1:2]'],
    ['prod[3:]'],
    ['*[1]'],
    ['staging:cache'],
    ['web', 'prod:!web1'],
    ['all', 'db,stg-*'],
  ];
  it('for each pattern', async (t) => {
    const inv = await loadInventory([inventory], { cwd: FIXTURES });
    const temp = tempDir('parity-ansible');
    for (const [pattern, limit] of cases) {
      const args = ['-i', inventory, pattern, '--list-hosts', ...(limit ? ['--limit', limit] : [])];
      const listed = await run(
        {
          command: 'ansible',
          args,
          parse: (o) =>
            o.stdout
              .split('\n')
              .slice(1)
              .map((l) => l.trim())
              .filter((l) => l),
        },
        { cwd: FIXTURES, env: ansibleInventoryEnv(env, temp) },
      );
      const ours = selectHosts(inv, pattern, { limit, cwd: FIXTURES }).hosts;
      assert.deepEqual(ours, listed, `ansible ${pattern}${limit ? ` --limit ${limit}` : ''}`);
    }
    t.diagnostic(`${cases.length} patterns: same hosts, same order as ansible --list-hosts`);
  });
});
