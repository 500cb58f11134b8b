import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadInventory, type Inventory } from '../../../src/core/guard/ansible/inventory';
import { selectHosts, splitHostPattern } from '../../../src/core/guard/ansible/limit';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '../../fixtures/inventories');

// Expected host lists are what `ansible -i limit/hosts.ini PATTERN --list-hosts` (ansible-core
// 2.14) prints, in its order; test/integration/guard/ansible-parity.test.ts re-checks them live.
const CASES: [pattern: string, hosts: string[]][] = [
  ['all', ['cache1', 'web3', 'stg-web1', 'stg-db1', 'web1', 'web2', 'db1', 'db2']],
  ['*', ['cache1', 'web3', 'stg-web1', 'stg-db1', 'web1', 'web2', 'db1', 'db2']],
  ['web1', ['web1']],
  ['web*', ['web1', 'web2', 'web3']],
  ['*web*', ['web1', 'web2', 'web3', 'stg-web1']],
  ['prod', ['web1', 'web2', 'web3', 'db1', 'db2']],
  ['web:db', ['web1', 'web2', 'web3', 'db1', 'db2']],
  ['web,db', ['web1', 'web2', 'web3', 'db1', 'db2']],
  ['staging:cache', ['stg-web1', 'stg-db1', 'cache1', 'web3']],
  ['prod:&cache', ['web3']],
  ['prod:!web', ['db1', 'db2']],
  ['!web', ['cache1', 'stg-web1', 'stg-db1', 'db1', 'db2']],
  ['cache:&web:!web2', ['web3']],
  [String.raw`~(web|db)\d`, ['web1', 'web2', 'web3', 'db1', 'db2']],
  ['web[0]', ['web1']],
  ['web[1:2]', ['web2', 'web3']],
  ['web[-1]', ['web3']],
  ['prod[3:]', ['db1', 'db2']],
  ['prod[0:0]', ['web1']],
  ['*[1]', ['web3']],
  ['web[5]', []],
  ['nomatch', []],
];

describe('host patterns (--limit and the ansible host pattern)', () => {
  let inv: Inventory;
  before(async () => {
    inv = await loadInventory(['limit/hosts.ini'], { cwd: FIXTURES });
    assert.deepEqual(inv.problems, []);
  });

  for (const [pattern, hosts] of CASES) {
    it(`${pattern} → ${hosts.join(' ') || '(none)'}`, () => {
      assert.deepEqual(selectHosts(inv, pattern, { cwd: FIXTURES }).hosts, hosts);
    });
  }

  it('--limit narrows the host pattern', () => {
    assert.deepEqual(selectHosts(inv, 'web', { limit: 'prod:!web1', cwd: FIXTURES }).hosts, ['web2', 'web3']);
    assert.deepEqual(selectHosts(inv, 'all', { limit: 'db', cwd: FIXTURES }).hosts, ['db1', 'db2']);
  });

  it('@file limits read one pattern per line, blank lines ignored', () => {
    const dir = tempDir('limit');
    writeFileSync(join(dir, 'retry'), 'db2\n\nweb1\n');
    assert.deepEqual(selectHosts(inv, 'all', { limit: '@retry', cwd: dir }).hosts, ['web1', 'db2']);
  });

  it('a missing @file is a problem', () => {
    const sel = selectHosts(inv, 'all', { limit: '@nope', cwd: FIXTURES });
    assert.equal(sel.problems.length, 1);
    assert.match(sel.problems[0].message, /Unable to find limit file .*nope/);
  });

  it('reports what matched nothing, and the implicit localhost', () => {
    assert.deepEqual(selectHosts(inv, 'web:nomatch', { cwd: FIXTURES }).unmatched, ['nomatch']);
    const local = selectHosts(inv, 'localhost', { cwd: FIXTURES });
    assert.deepEqual(local.hosts, []);
    assert.equal(local.implicitLocalhost, 'localhost');
  });

  it('an invalid regex is a problem, not a crash', () => {
    const sel = selectHosts(inv, '~web(', { cwd: FIXTURES });
    assert.deepEqual(sel.hosts, []);
    assert.match(sel.problems[0].message, /Invalid host list pattern/);
  });
});

describe('splitting host patterns', () => {
  it('commas, colons, and what colons do not split', () => {
    assert.deepEqual(splitHostPattern('a, b ,c'), ['a', 'b', 'c']);
    assert.deepEqual(splitHostPattern('a:&b:!c'), ['a', '&b', '!c']);
    assert.deepEqual(splitHostPattern('web[1:3]:db'), ['web[1:3]', 'db']);
    assert.deepEqual(splitHostPattern('2001:db8::1'), ['2001:db8::1']);
    assert.deepEqual(splitHostPattern('host.example.test:22'), ['host.example.test:22']);
  });
});
