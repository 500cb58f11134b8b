import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractDb, extractVault, parseConninfo } from '../../../src/core/guard/families/db';
import type { ExtractContext, Target } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

function ctx(env: NodeJS.ProcessEnv = {}, home = '/home/nobody'): ExtractContext {
  return { cwd: '/work', env: { PGSYSCONFDIR: '/nonexistent', ...env }, home, inventoryParser: 'builtin' };
}

const view = (targets: Target[]) => targets.map((t) => [t.kind, t.name, t.host]);

describe('PostgreSQL clients', () => {
  it('-h takes a comma list; each host is a target from that argument', async () => {
    const { targets } = await extractDb(['psql', '-h', 'db1.corp.example,10.0.0.5', '-U', 'app', 'appdb'], ctx());
    assert.deepEqual(view(targets), [
      ['host', 'db1.corp.example', 'db1.corp.example'],
      ['host', '10.0.0.5', '10.0.0.5'],
    ]);
    assert.deepEqual(targets[0].source, { kind: 'argv', argIndex: 2, detail: '-h' });
    assert.deepEqual(targets[0].chain, ['db1.corp.example (argv[2] -h)']);
  });

  it('reads -hHOST, --host=HOST and --host HOST, anywhere on the line', async () => {
    for (const argv of [
      ['psql', '-hdb.corp.example'],
      ['psql', 'appdb', '--host=db.corp.example'],
      ['pg_dump', '-Fc', '-f', 'out.dump', '--host', 'db.corp.example', 'appdb'],
    ]) {
      assert.deepEqual(
        view((await extractDb(argv, ctx())).targets),
        [['host', 'db.corp.example', 'db.corp.example']],
        argv.join(' '),
      );
    }
  });

  it('$PGHOST: a host list, or a unix socket (local)', async () => {
    const list = await extractDb(['psql'], ctx({ PGHOST: 'a.corp.example,b.corp.example' }));
    assert.deepEqual(
      list.targets.map((t) => [t.host, t.source.envVar]),
      [
        ['a.corp.example', 'PGHOST'],
        ['b.corp.example', 'PGHOST'],
      ],
    );
    const socket = await extractDb(['psql'], ctx({ PGHOST: '/var/run/postgresql' }));
    assert.deepEqual(view(socket.targets), [['local', '/var/run/postgresql', undefined]]);
  });

  it('-h wins over $PGHOST', async () => {
    const { targets } = await extractDb(['psql', '-h', 'lab.local'], ctx({ PGHOST: 'prod.corp.example' }));
    assert.deepEqual(view(targets), [['host', 'lab.local', 'lab.local']]);
  });

  it('no host anywhere is the local default socket', async () => {
    const { targets } = await extractDb(['psql', '-c', 'select 1', '-U', 'me', 'appdb'], ctx());
    assert.deepEqual(view(targets), [['local', 'default unix socket', undefined]]);
  });

  it('a multi-host URI as the database name: every host, no password in the chain', async () => {
    const uri = 'postgresql://app:s3cret@db1.corp.example:5432,[2001:db8::7]:5433/app?sslmode=require';
    const { targets } = await extractDb(['psql', uri], ctx());
    assert.deepEqual(
      targets.map((t) => t.host),
      ['db1.corp.example', '2001:db8::7'],
    );
    assert.doesNotMatch(JSON.stringify(targets), /s3cret/);
    assert.match(targets[0].chain[0], /argv\[1\] connection URI/);
  });

  it('a URI with ?host= and a socket path in the host', async () => {
    const a = await extractDb(['psql', 'postgresql:///app?host=/var/run/postgresql'], ctx());
    assert.deepEqual(view(a.targets), [['local', '/var/run/postgresql', undefined]]);
    const b = await extractDb(['psql', 'postgresql://%2Fvar%2Frun%2Fpostgresql/app'], ctx());
    assert.equal(b.targets[0].kind, 'local');
  });

  it('a conninfo string: hostaddr is where the connection goes, host names it', async () => {
    const { targets } = await extractDb(
      ['psql', '-d', "host=db.corp.example hostaddr=192.168.1.10 dbname='app x'"],
      ctx(),
    );
    assert.deepEqual(view(targets), [['host', 'db.corp.example', '192.168.1.10']]);
    assert.deepEqual(targets[0].chain, [
      'db.corp.example (argv[2] conninfo)',
      'hostaddr 192.168.1.10 (argv[2] conninfo)',
    ]);
  });

  it('the connection string overrides -h, as libpq does', async () => {
    const { targets } = await extractDb(['psql', '-h', 'lab.local', '-d', 'host=prod.corp.example'], ctx());
    assert.deepEqual(view(targets), [['host', 'prod.corp.example', 'prod.corp.example']]);
  });

  it('$PGHOSTADDR applies when nothing sets hostaddr', async () => {
    const { targets } = await extractDb(['pg_dumpall', '-h', 'db.corp.example'], ctx({ PGHOSTADDR: '192.168.1.11' }));
    assert.deepEqual(view(targets), [['host', 'db.corp.example', '192.168.1.11']]);
  });

  it("pg_restore's operand is a dump file, its database comes from -d", async () => {
    const { targets } = await extractDb(
      ['pg_restore', '-d', 'postgres://restore.corp.example/app', 'db01:5432.dump'],
      ctx(),
    );
    assert.deepEqual(
      targets.map((t) => t.host),
      ['restore.corp.example'],
    );
  });

  it('a service from ~/.pg_service.conf, with its file:line', async () => {
    const home = tempDir('pg-home');
    const file = join(home, '.pg_service.conf');
    writeFileSync(file, '# services\n[lab]\nhost=127.0.0.1\n\n[prod]\ndbname=app\nhost=192.168.1.10\n');
    const { targets, problems } = await extractDb(['psql', 'service=prod'], ctx({}, home));
    assert.deepEqual(problems, []);
    assert.deepEqual(view(targets), [['host', '192.168.1.10', '192.168.1.10']]);
    assert.deepEqual(targets[0].source, { kind: 'file', file, line: 7 });
    const env = await extractDb(['psql'], ctx({ PGSERVICE: 'lab' }, home));
    assert.equal(env.targets[0].host, '127.0.0.1');
    const missing = await extractDb(['psql', 'service=nope'], ctx({}, home));
    assert.match(missing.problems[0].message, /service "nope" is not defined/);
  });

  it('parseConninfo handles quotes and escapes, and rejects what is not conninfo', () => {
    assert.deepEqual(
      [...parseConninfo("host = a  password='it\\'s' port=5432")!],
      [
        ['host', 'a'],
        ['password', "it's"],
        ['port', '5432'],
      ],
    );
    assert.equal(parseConninfo('appdb'), undefined);
    assert.equal(parseConninfo("host='unterminated"), undefined);
  });
});

describe('vault / bao', () => {
  it('-address=URL and -address URL are the target', async () => {
    const a = await extractVault(['vault', 'kv', 'get', '-address=https://vault.corp.example:8200', 'secret/x'], ctx());
    assert.deepEqual(view(a.targets), [['url', 'https://vault.corp.example:8200', 'vault.corp.example']]);
    assert.deepEqual(a.targets[0].source, { kind: 'argv', argIndex: 3, detail: '-address' });
    const b = await extractVault(
      ['vault', 'read', '--address', 'http://10.0.0.8:8200', 'x'],
      ctx({ VAULT_ADDR: 'http://127.0.0.1:8200' }),
    );
    assert.deepEqual(
      b.targets.map((t) => t.host),
      ['10.0.0.8'],
    );
  });

  it('$VAULT_ADDR, and $VAULT_AGENT_ADDR too when set', async () => {
    const a = await extractVault(['vault', 'status'], ctx({ VAULT_ADDR: 'https://vault.corp.example:8200' }));
    assert.deepEqual(
      a.targets.map((t) => [t.host, t.source.envVar]),
      [['vault.corp.example', 'VAULT_ADDR']],
    );
    const b = await extractVault(
      ['vault', 'status'],
      ctx({ VAULT_ADDR: 'https://vault.corp.example', VAULT_AGENT_ADDR: 'http://127.0.0.1:8100' }),
    );
    assert.deepEqual(
      b.targets.map((t) => t.host),
      ['127.0.0.1', 'vault.corp.example'],
    );
  });

  it('bao reads $BAO_ADDR first', async () => {
    const { targets } = await extractVault(
      ['bao', 'status'],
      ctx({ BAO_ADDR: 'https://bao.corp.example', VAULT_ADDR: 'https://v.example' }),
    );
    assert.deepEqual(
      targets.map((t) => [t.host, t.source.envVar]),
      [['bao.corp.example', 'BAO_ADDR']],
    );
  });

  it('nothing set is the default local address; version reaches nothing', async () => {
    const { targets } = await extractVault(['vault', 'status'], ctx());
    assert.deepEqual(view(targets), [['url', 'https://127.0.0.1:8200', '127.0.0.1']]);
    assert.deepEqual((await extractVault(['vault', 'version'], ctx({ VAULT_ADDR: 'https://x.example' }))).targets, []);
  });
});
