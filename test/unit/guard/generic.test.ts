import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envTargets, extractGeneric, hostCandidates } from '../../../src/core/guard/families/generic';
import type { ExtractContext } from '../../../src/core/guard/types';

const ctx: ExtractContext = { cwd: '/work', env: {}, home: '/home/u', inventoryParser: 'builtin' };

async function hosts(...argv: string[]): Promise<string[]> {
  const { targets } = await extractGeneric(argv, ctx);
  return targets.map((t) => t.host ?? '');
}

describe('generic extractor: endpoints in any command', () => {
  it('finds a URL with its argv index and keeps the URL as the name', async () => {
    const { targets } = await extractGeneric(['curl', '-sS', 'https://192.168.1.10:8443/api'], ctx);
    assert.equal(targets.length, 1);
    assert.deepEqual(
      { kind: targets[0].kind, name: targets[0].name, host: targets[0].host, source: targets[0].source },
      {
        kind: 'url',
        name: 'https://192.168.1.10:8443/api',
        host: '192.168.1.10',
        source: { kind: 'argv', argIndex: 2 },
      },
    );
    assert.deepEqual(targets[0].chain, ['https://192.168.1.10:8443/api (argv[2])']);
  });

  it('takes every spelling of an IPv4 address as a candidate (the decider normalises them)', async () => {
    assert.deepEqual(await hosts('ping', '3232235978'), ['3232235978']);
    assert.deepEqual(await hosts('ping', '0xC0A801CA'), ['0xC0A801CA']);
    assert.deepEqual(await hosts('ping', '0300.0250.01.0312'), ['0300.0250.01.0312']);
    assert.deepEqual(await hosts('ping', '192.168.1.202.'), ['192.168.1.202.']);
    assert.deepEqual(await hosts('nc', '192.168.1.202', '22'), ['192.168.1.202']);
  });

  it('takes IPv6 literals: with ::, bracketed with a port, IPv4-mapped', async () => {
    assert.deepEqual(await hosts('ping', 'fe80::1%eth0'), ['fe80::1%eth0']);
    assert.deepEqual(await hosts('nc', '[2001:db8::5]:443'), ['2001:db8::5']);
    assert.deepEqual(await hosts('ping', '::ffff:192.168.1.202'), ['::ffff:192.168.1.202']);
  });

  it('takes user@host, user@[v6]:path and host:port, dropping user, path and port', async () => {
    assert.deepEqual(await hosts('mosh', 'deploy@db01.corp.example'), ['db01.corp.example']);
    assert.deepEqual(await hosts('git', 'clone', 'git@git.corp.example:infra/site.git'), ['git.corp.example']);
    assert.deepEqual(await hosts('x', 'root@[fe80::2]:/etc'), ['fe80::2']);
    assert.deepEqual(await hosts('redis-cli', 'cache.corp.example:6379'), ['cache.corp.example']);
    // Short dotted forms count in a host position.
    assert.deepEqual(await hosts('nc', '127.1:22'), ['127.1']);
  });

  it('reads the value of --opt=value and KEY=value, and comma lists', async () => {
    assert.deepEqual(await hosts('tool', '--server=10.0.0.1:443'), ['10.0.0.1']);
    assert.deepEqual(await hosts('tool', '--endpoint=http://minio.corp.example:9000'), ['minio.corp.example']);
    assert.deepEqual(await hosts('tool', '--hosts=10.0.0.1,10.0.0.2'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(await hosts('env', 'API=https://api.corp.example/v1'), ['api.corp.example']);
  });

  it('finds every host of a multi-host URI', async () => {
    assert.deepEqual(await hosts('tool', 'postgresql://u@db1:5432,db2:5433/app'), ['db1', 'db2']);
  });

  it('leaves alone what is not an endpoint: versions, counts, CIDRs, times, paths, local URLs', async () => {
    assert.deepEqual(
      await hosts(
        'tool',
        '1.2.3',
        '12345',
        '0x1f',
        '10.0.0.0/8',
        '12:30',
        '--count=3',
        'file:///etc/hosts',
        'main.tf',
        './a:b',
        'unix:///var/run/docker.sock',
        'v1.2.3.4',
      ),
      [],
    );
  });

  it('never looks at argv[0]', async () => {
    assert.deepEqual(await hosts('10.0.0.1'), []);
  });

  it('hostCandidates accepts plain host names only when asked', () => {
    assert.deepEqual(hostCandidates('db01.corp.example'), []);
    assert.deepEqual(
      hostCandidates('db01.corp.example', { bareNames: true }).map((c) => c.host),
      ['db01.corp.example'],
    );
  });
});

describe('envTargets: the production.env variables', () => {
  it('turns a URL value into a url target sourced from the variable', () => {
    const [t] = envTargets({ VAULT_ADDR: 'https://vault.corp.example:8200' }, ['VAULT_ADDR']);
    assert.deepEqual(t, {
      kind: 'url',
      name: '$VAULT_ADDR',
      host: 'vault.corp.example',
      source: { kind: 'env', envVar: 'VAULT_ADDR' },
      chain: ['$VAULT_ADDR=https://vault.corp.example:8200'],
    });
  });

  it('splits host lists, strips ports and users, and treats a leading / as a unix socket', () => {
    const targets = envTargets(
      { PGHOST: 'db1.corp.example,10.0.0.7:5433', DB: '/var/run/postgresql', SSHH: 'deploy@bastion' },
      ['PGHOST', 'DB', 'SSHH'],
    );
    assert.deepEqual(
      targets.map((t) => [t.kind, t.host]),
      [
        ['host', 'db1.corp.example'],
        ['host', '10.0.0.7'],
        ['local', undefined],
        ['host', 'bastion'],
      ],
    );
  });

  it('ignores variables that are unset, empty, or not configured', () => {
    assert.deepEqual(envTargets({ PGHOST: '', OTHER: '10.0.0.1' }, ['PGHOST', 'VAULT_ADDR']), []);
  });

  it('hides a password in the chain', () => {
    const [t] = envTargets({ DATABASE_URL: 'postgres://app:s3cret@db.corp.example/app' }, ['DATABASE_URL']);
    assert.equal(t.host, 'db.corp.example');
    assert.doesNotMatch(t.chain.join(' '), /s3cret/);
  });
});
