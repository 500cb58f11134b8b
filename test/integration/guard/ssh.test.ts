// The ssh family against the real `ssh -G` (openssh-client). `ssh -G` prints the configuration it
// would use and exits: nothing here connects anywhere. Every test passes `-F` (so neither
// /etc/ssh/ssh_config nor the user's ~/.ssh/config is read) and points HOME at an empty folder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { extractDocker } from '../../../src/core/guard/families/docker';
import { extractSsh } from '../../../src/core/guard/families/ssh';
import { SHIM_DIR_ENV } from '../../../src/core/guard/shims';
import type { ExtractContext, Target } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

const fixtures = resolve(__dirname, '../../fixtures/ssh');
const config = join(fixtures, 'config');
const home = tempDir('ssh-home');
const env = { ...process.env, HOME: home };
const ctx: ExtractContext = { cwd: fixtures, env, home, inventoryParser: 'builtin' };

const view = (targets: Target[]) => targets.map((t) => [t.name, t.host]);

describe('ssh family with the real ssh -G', () => {
  it('an alias resolves to its HostName, and its ProxyJump host is a target too', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'prod', 'uptime'], ctx);
    assert.deepEqual(e.problems, []);
    assert.deepEqual(view(e.targets), [
      ['prod', '192.168.1.202'],
      ['bastion', '192.168.1.5'],
    ]);
    const [prod, bastion] = e.targets;
    assert.deepEqual(prod.source, { kind: 'argv', argIndex: 3 });
    assert.deepEqual(prod.chain, ['prod (argv[3])', 'HostName 192.168.1.202 (ssh -G, config)']);
    assert.deepEqual(bastion.source, { kind: 'config', detail: 'ProxyJump of prod (ssh -G, config)' });
    assert.deepEqual(bastion.chain, [
      'bastion (ProxyJump of prod, ssh -G, config)',
      'HostName 192.168.1.5 (ssh -G, config)',
    ]);
  });

  it('user@alias and the remote command: only the destination counts', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'deploy@lab', 'ping', '192.168.1.99'], ctx);
    assert.deepEqual(view(e.targets), [['lab', '127.0.0.1']]);
  });

  it('-o HostName= overrides the config and says so', async () => {
    const e = await extractSsh(['ssh', '-F', config, '-o', 'HostName=10.1.2.3', 'lab'], ctx);
    assert.deepEqual(view(e.targets), [['lab', '10.1.2.3']]);
    assert.equal(e.targets[0].chain[1], 'HostName 10.1.2.3 (-o, argv[4])');
  });

  it('options after the destination still count, as ssh reads them', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'lab', '-oHostName=10.4.4.4', 'true'], ctx);
    assert.deepEqual(view(e.targets), [['lab', '10.4.4.4']]);
  });

  it('-J lists: each jump host is a target from that argument', async () => {
    const e = await extractSsh(['ssh', '-F', config, '-J', 'u@10.7.7.7:2200,bastion', 'lab'], ctx);
    assert.deepEqual(view(e.targets), [
      ['lab', '127.0.0.1'],
      ['10.7.7.7', '10.7.7.7'],
      ['bastion', '192.168.1.5'],
    ]);
    assert.deepEqual(e.targets[1].source, { kind: 'argv', argIndex: 4, detail: '-J' });
  });

  it('-o ProxyJump=alias follows the jump host through its own config, recursively', async () => {
    const e = await extractSsh(['ssh', '-F', config, '-o', 'ProxyJump=prod', 'lab'], ctx);
    assert.deepEqual(view(e.targets), [
      ['lab', '127.0.0.1'],
      ['prod', '192.168.1.202'],
      ['bastion', '192.168.1.5'],
    ]);
  });

  it('a ProxyJump loop ends', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'chain-a'], ctx);
    assert.deepEqual(view(e.targets), [
      ['chain-a', '10.20.0.1'],
      ['chain-b', '10.20.0.2'],
    ]);
  });

  it('HostName %h tokens are expanded by ssh', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'db.short'], ctx);
    assert.deepEqual(view(e.targets), [['db.short', 'db.short.corp.example']]);
  });

  it('a ProxyCommand that runs ssh is followed like a jump', async () => {
    const e = await extractSsh(['ssh', '-F', config, 'viacmd'], ctx);
    assert.deepEqual(view(e.targets).slice(0, 1), [['viacmd', '10.30.0.1']]);
    // The inner ssh has no -F: it reads the (empty) default config, so bastion stays literal.
    assert.equal(e.targets[1].name, 'bastion');
    assert.equal(e.targets[1].source.kind, 'config');
  });

  it('-L/-R/-W forwards name hosts too (loopback ones are skipped)', async () => {
    const e = await extractSsh(
      [
        'ssh',
        '-F',
        config,
        '-L',
        '5432:db.internal.example:5432',
        '-L',
        '8080:localhost:80',
        '-W',
        '10.8.8.8:22',
        'lab',
      ],
      ctx,
    );
    assert.deepEqual(view(e.targets), [
      ['lab', '127.0.0.1'],
      ['5432:db.internal.example:5432', 'db.internal.example'],
      ['10.8.8.8:22', '10.8.8.8'],
    ]);
  });

  it('a forward from a local socket still connects to its host; one to a socket names none', async () => {
    const e = await extractSsh(
      ['ssh', '-F', config, '-L', '/tmp/db.sock:10.8.8.9:5432', '-L', '8080:/run/app.sock', 'lab'],
      ctx,
    );
    assert.deepEqual(view(e.targets), [
      ['lab', '127.0.0.1'],
      ['/tmp/db.sock:10.8.8.9:5432', '10.8.8.9'],
    ]);
  });

  it('LocalForward / RemoteForward from the config and -o name hosts too (ClearAllForwardings drops them)', async () => {
    const dir = tempDir('ssh-forwards');
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'Host tunnel',
        '  HostName 127.0.0.1',
        '  LocalForward 5432 10.8.8.10:5432',
        '  LocalForward 8080 localhost:80',
        '  RemoteForward 9000 10.8.8.11:80',
        '  RemoteForward 1080',
        'Host cleared',
        '  HostName 127.0.0.1',
        '  LocalForward 5432 10.8.8.10:5432',
        '  ClearAllForwardings yes',
        '',
      ].join('\n'),
    );
    const e = await extractSsh(['ssh', '-F', file, '-o', 'LocalForward 7070 [2001:db8::7]:22', 'tunnel'], ctx);
    assert.deepEqual(view(e.targets), [
      ['tunnel', '127.0.0.1'],
      ['[2001:db8::7]:22', '2001:db8::7'],
      ['10.8.8.10:5432', '10.8.8.10'],
      ['10.8.8.11:80', '10.8.8.11'],
    ]);
    assert.deepEqual(e.targets[1].source, { kind: 'argv', argIndex: 4, detail: '-o LocalForward' });
    assert.deepEqual(e.targets[3].source, { kind: 'config', detail: `RemoteForward of tunnel (ssh -G, ${file})` });
    assert.equal(
      e.targets[3].chain[0],
      `RemoteForward 9000 10.8.8.11:80 of tunnel (ssh -G, ${file}, connected from here)`,
    );
    assert.deepEqual(view((await extractSsh(['ssh', '-F', file, 'cleared'], ctx)).targets), [['cleared', '127.0.0.1']]);
  });

  it('ssh -G and ssh -V connect nowhere', async () => {
    for (const argv of [
      ['ssh', '-G', 'prod'],
      ['ssh', '-V'],
    ]) {
      const e = await extractSsh(argv, ctx);
      assert.deepEqual(e.targets, []);
      assert.equal(e.notes.length, 1);
    }
  });

  it('a broken config is a problem at its line; the host is still checked literally', async () => {
    const broken = join(fixtures, 'broken-config');
    const e = await extractSsh(['ssh', '-F', broken, 'broken'], ctx);
    assert.deepEqual(
      e.problems.map((p) => [p.file, p.line]),
      [[broken, 3]],
    );
    assert.match(e.problems[0].message, /NoSuchOption|bad configuration option/i);
    assert.deepEqual(view(e.targets), [['broken', 'broken']]);
  });

  it('a missing -F file is a problem', async () => {
    const e = await extractSsh(['ssh', '-F', 'nope', 'prod'], ctx);
    assert.equal(e.problems[0].file, join(fixtures, 'nope'));
    assert.match(e.problems[0].message, /cannot read ssh config/);
  });

  it('without ssh on PATH: the literal host, -J and -o HostName, and a note', async () => {
    const empty = tempDir('no-ssh');
    const e = await extractSsh(['ssh', '-F', config, '-J', 'jump.example', 'prod'], {
      ...ctx,
      env: { ...env, PATH: empty },
    });
    assert.deepEqual(view(e.targets), [
      ['prod', 'prod'],
      ['jump.example', 'jump.example'],
    ]);
    assert.match(e.notes.join('\n'), /ssh is not on PATH/);
  });

  it("runs the real ssh, not the guard's own shim for it", async () => {
    const shims = tempDir('shims');
    const marker = join(shims, 'shim-ran');
    writeFileSync(join(shims, 'ssh'), `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
    chmodSync(join(shims, 'ssh'), 0o755);
    const shimmed = { ...env, PATH: `${shims}:${process.env.PATH}`, [SHIM_DIR_ENV]: shims };
    const e = await extractSsh(['ssh', '-F', config, 'prod'], { ...ctx, env: shimmed });
    assert.equal(e.targets[0].host, '192.168.1.202');
    assert.equal(existsSync(marker), false);
  });

  it('scp: every remote operand, with -P as the port and -l as a bandwidth limit', async () => {
    const e = await extractSsh(
      ['scp', '-F', config, '-l', '800', '-P', '2222', 'a.txt', 'prod:/tmp/', 'root@[2001:db8::9]:/x'],
      ctx,
    );
    assert.deepEqual(view(e.targets), [
      ['prod', '192.168.1.202'],
      ['bastion', '192.168.1.5'],
      ['2001:db8::9', '2001:db8::9'],
    ]);
    assert.deepEqual(e.targets[2].source, { kind: 'argv', argIndex: 9 });
    const local = await extractSsh(['scp', 'a.txt', './b:c', '/tmp/d'], ctx);
    assert.deepEqual(local.targets, []);
  });

  it('scp:// and sftp destinations', async () => {
    const a = await extractSsh(['scp', '-F', config, 'scp://deploy@lab:2222/etc/hosts', '.'], ctx);
    assert.deepEqual(view(a.targets), [['lab', '127.0.0.1']]);
    const b = await extractSsh(['sftp', '-F', config, '-P', '22', 'prod:/srv'], ctx);
    assert.deepEqual(view(b.targets).slice(0, 1), [['prod', '192.168.1.202']]);
  });

  it('rsync over ssh takes the -e options; daemons are taken literally', async () => {
    const e = await extractSsh(
      [
        'rsync',
        '-avz',
        '-e',
        `ssh -F ${config} -p 2222`,
        '--exclude',
        'x:y',
        './dir/',
        'deploy@prod:/srv/',
        'rsync://192.168.1.203/mod',
        'backup@10.9.0.4::mod',
      ],
      ctx,
    );
    assert.deepEqual(view(e.targets), [
      ['prod', '192.168.1.202'],
      ['bastion', '192.168.1.5'],
      ['192.168.1.203', '192.168.1.203'],
      ['10.9.0.4', '10.9.0.4'],
    ]);
    assert.match(e.targets[2].chain[0], /rsync daemon/);
  });

  it('rsync with $RSYNC_RSH, and with a remote shell that is not ssh', async () => {
    const a = await extractSsh(['rsync', 'prod:/x', '.'], { ...ctx, env: { ...env, RSYNC_RSH: `ssh -F ${config}` } });
    assert.equal(a.targets[0].host, '192.168.1.202');
    const b = await extractSsh(['rsync', '--rsh=kubectl exec -i', 'pod:/data', '.'], ctx);
    assert.deepEqual(view(b.targets), [['pod', 'pod']]);
    assert.match(b.notes.join('\n'), /not ssh/);
  });
});

describe('DOCKER_HOST=ssh:// through ssh -G', () => {
  it('is a docker-engine target at the ssh host', async () => {
    const e = await extractDocker(['docker', 'ps'], {
      ...ctx,
      env: { ...env, DOCKER_HOST: 'ssh://deploy@192.168.1.202:2222' },
    });
    assert.deepEqual(e.problems, []);
    assert.deepEqual(
      e.targets.map((t) => [t.kind, t.name, t.host]),
      [['docker-engine', 'ssh://deploy@192.168.1.202:2222', '192.168.1.202']],
    );
    assert.equal(e.targets[0].chain[0], '$DOCKER_HOST ssh://deploy@192.168.1.202:2222');
  });
});
