// The guard from the outside: `node dist/cli.js guard exec|check …` as a terminal (or a shim) runs
// it, against a real dnsmasq, in a temporary workspace with a controlled environment (PATH = a
// folder of fake tools first, then /usr/bin:/bin; HOME = an empty folder). The fake tools record
// what they received (argv, stdin) in a file and exit with a chosen code; a command the guard
// blocks leaves no record. Production addresses are data only: nothing here connects to them, and
// no real ansible-playbook, kubectl or tofu ever runs (every guarded command has a fake first on PATH).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeShims } from '../../../src/core/guard/shims';
import { verdictLogPath, type VerdictRecord } from '../../../src/core/guard/verdictLog';
import { GUARD_CONFIG, NAMES, silentDnsServer, startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq';
import { tempDir } from '../../helpers/tmp';

const repo = resolve(__dirname, '../../..');
const cli = join(repo, 'dist', 'cli.js');
const fixtures = join(repo, 'test', 'fixtures');
const homelabProduction = join(repo, 'examples', 'homelab', 'ansible', 'inventories', 'production', 'hosts.ini');
const SYSTEM_PATH = '/usr/bin:/bin';

let dns: Dnsmasq;
let silent: Awaited<ReturnType<typeof silentDnsServer>>;

before(async () => {
  assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first');
  dns = await startDnsmasq();
  silent = await silentDnsServer();
});
after(async () => {
  await dns?.stop();
  await silent?.close();
});

// ---------------------------------------------------------------------------------------------
// A workspace, its fake tools, and the CLI run as a terminal runs it.

interface FakeRun {
  argv: string[];
  stdin: string; // base64
  cwd: string;
}

interface FakeOptions {
  exit?: number;
  /** Written to stdout as is (base64 here, so any bytes survive). */
  stdout?: Buffer;
  /** `ssh` only: `ssh -G …` (the guard's own lookup) is handed to the real ssh, which connects nowhere. */
  delegateG?: string;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: Buffer | string;
  /** Run this executable (a shim) instead of `node dist/cli.js`. */
  executable?: string;
}

/** Longer than any run here takes (a DNS timeout is 2 s); a guard that loops is killed, with its children. */
const RUN_TIMEOUT_MS = 30_000;

class Workspace {
  readonly dir = tempDir('guard-exec');
  readonly bin = join(this.dir, 'bin');
  readonly home = join(this.dir, 'home');
  readonly records = join(this.dir, 'records');
  readonly configFile = join(this.dir, 'infra-sandbox.yaml');

  constructor(guard: Record<string, unknown> = {}) {
    for (const d of [this.bin, this.home, this.records]) mkdirSync(d);
    this.config(guard);
    // Every command a test may name that is really installed here gets a fake, so nothing real runs.
    for (const name of ['ansible', 'ansible-playbook', 'kubectl', 'psql']) this.fake(name);
    this.fake('ssh', { delegateG: '/usr/bin/ssh' });
  }

  /** infra-sandbox.yaml: the shared boundary, the shared dnsmasq, and `guard` on top. */
  config(guard: Record<string, unknown> = {}): void {
    const config = {
      version: 1,
      ...GUARD_CONFIG,
      guard: { commands: ['ansible-playbook', 'ssh', 'kubectl', 'tofu'], dnsServers: [dns.server], ...guard },
    };
    writeFileSync(this.configFile, `${JSON.stringify(config, null, 2)}\n`);
  }

  write(relative: string, text: string): string {
    const file = join(this.dir, relative);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  /** A fake `name` in bin/: records argv, stdin and cwd (one JSON line per run), prints, exits. */
  fake(name: string, opts: FakeOptions = {}): void {
    const file = join(this.bin, name);
    const record = join(this.records, `${name}.jsonl`);
    const script = `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const delegate = ${JSON.stringify(opts.delegateG ?? null)};
if (delegate && args[0] === '-G') {
  const r = require('node:child_process').spawnSync(delegate, args, { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
let stdin = Buffer.alloc(0);
try { stdin = fs.readFileSync(0); } catch {}
fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: args, stdin: stdin.toString('base64'), cwd: process.cwd() }) + '\\n');
process.stdout.write(Buffer.from(${JSON.stringify((opts.stdout ?? Buffer.alloc(0)).toString('base64'))}, 'base64'));
process.exitCode = ${opts.exit ?? 0};
`;
    writeFileSync(file, script);
    chmodSync(file, 0o755);
  }

  /** Every run of the fake `name`, oldest first. */
  runs(name: string): FakeRun[] {
    const file = join(this.records, `${name}.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as FakeRun);
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: `${this.bin}:${SYSTEM_PATH}`, HOME: this.home, ...extra };
  }

  /** `node dist/cli.js ARGS…` in the workspace (or the shim given). */
  run(args: string[], opts: RunOptions = {}): Promise<Result> {
    const [command, argv] = opts.executable ? [opts.executable, args] : [process.execPath, [cli, ...args]];
    return new Promise((done, fail) => {
      // Its own process group, so that a runaway (a shim that finds itself) can be stopped whole.
      const child = spawn(command, argv, { cwd: opts.cwd ?? this.dir, env: opts.env ?? this.env(), detached: true });
      const timer = setTimeout(() => {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      }, RUN_TIMEOUT_MS);
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', fail);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        done({ code, signal, stdout: Buffer.concat(out), stderr });
      });
      child.stdin.on('error', () => {}); // a blocked command never reads its stdin
      child.stdin.end(opts.input ?? '');
    });
  }

  verdictLog(): VerdictRecord[] {
    const file = verdictLogPath(this.configFile);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as VerdictRecord);
  }
}

/** What every refusal owes an operator: no stack trace, and nothing of the command ran. */
function assertRefused(r: Result, code: number, ws: Workspace, fake: string): void {
  assert.equal(r.code, code, `exit code; stderr:\n${r.stderr}`);
  assert.deepEqual(ws.runs(fake), [], `${fake} must not have run`);
  assert.equal(r.stdout.length, 0, 'nothing on stdout');
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

const PROCEED = /point it at a sandbox instead\. This version has no override .*run the tool by its full path/;

// ---------------------------------------------------------------------------------------------

describe('guard exec: a production target blocks the command (exit 3), nothing runs', () => {
  it('ssh admin@192.168.1.10', async () => {
    const ws = new Workspace();
    const r = await ws.run(['guard', 'exec', '--', 'ssh', 'admin@192.168.1.10', 'uptime']);
    assertRefused(r, 3, ws, 'ssh');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'infra-sandbox: blocked ssh admin@192.168.1.10 uptime');
    assert.equal(lines[1], '  admin@192.168.1.10 (argv[1]) → 192.168.1.10 ∈ 192.168.1.0/24 production');
    assert.match(lines[2], PROCEED);
    assert.equal(lines.length, 3, r.stderr);
  });

  it('ansible-playbook whose inventory host resolves (dnsmasq) to a production address', async () => {
    const ws = new Workspace();
    ws.write('inventory/hosts.ini', `[web]\nweb1 ansible_host=${NAMES.app}\nweb2 ansible_host=${NAMES.pi2}\n`);
    ws.write('site.yml', '- hosts: web\n  tasks: []\n');
    const before = dns.queryCount(NAMES.pi2);
    const r = await ws.run([
      'guard',
      '--inventory-parser',
      'builtin',
      'exec',
      '--',
      'ansible-playbook',
      '-i',
      'inventory/hosts.ini',
      'site.yml',
    ]);
    assertRefused(r, 3, ws, 'ansible-playbook');
    assert.ok(dns.queryCount(NAMES.pi2) > before, 'pi2.lan was asked of dnsmasq');
    assert.match(r.stderr, /^infra-sandbox: blocked ansible-playbook -i inventory\/hosts\.ini site\.yml$/m);
    assert.ok(
      r.stderr.includes(
        '  web2 → ansible_host pi2.lan (inventory/hosts.ini:3) → pi2.lan A 192.168.1.202 → 192.168.1.202 ∈ 192.168.1.0/24 production\n',
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /web1/, 'only the production host is shown');
    assert.match(r.stderr, PROCEED);
  });

  it('kubectl whose current context is a production kube context (matched by name)', async () => {
    const ws = new Workspace();
    cpSync(join(fixtures, 'kube', 'prod.yaml'), join(ws.dir, 'prod.yaml'));
    const r = await ws.run(['guard', 'exec', '--', 'kubectl', '--kubeconfig', 'prod.yaml', 'delete', 'ns', 'web']);
    assertRefused(r, 3, ws, 'kubectl');
    assert.match(r.stderr, /^infra-sandbox: blocked kubectl --kubeconfig prod\.yaml delete ns web$/m);
    assert.match(r.stderr, /kube context corp-prod production/);
  });
});

describe('guard exec: an allowed command runs as if typed directly', () => {
  // Arguments a shell would mangle: the guard must hand each one over byte for byte.
  const awkward = [
    'sh',
    '-c',
    'printf "%s\\n" "$HOME" "$@"',
    '',
    'two words',
    `it's "quoted"`,
    '$HOME',
    '--',
    '--help',
    '-V',
    '--json',
    'naïve ☃ 日本語',
    'tab\there',
    'new\nline',
    '*',
    '$(id)',
    '`id`',
  ];

  it('argv exactly, stdin piped through, stdout untouched, exit 0, and no guard output', async () => {
    const ws = new Workspace();
    cpSync(join(fixtures, 'kube', 'lab.yaml'), join(ws.dir, 'lab.yaml'));
    const stdout = Buffer.concat([Buffer.from('pods:\r\n'), Buffer.from([0, 1, 0xfe, 0xff]), Buffer.from('ünï\n')]);
    ws.fake('kubectl', { stdout, exit: 0 });
    const argv = ['--kubeconfig', 'lab.yaml', 'exec', '-i', 'web-0', '--', ...awkward];
    const input = Buffer.concat([Buffer.from('line 1\nline 2\r\n'), Buffer.from([0, 0xff, 0x80]), Buffer.from('☃')]);
    const r = await ws.run(['guard', 'exec', '--', 'kubectl', ...argv], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'an allowed command gets no guard chatter');
    assert.ok(r.stdout.equals(stdout), `stdout: ${JSON.stringify(r.stdout.toString('latin1'))}`);
    const runs = ws.runs('kubectl');
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0].argv, argv);
    assert.ok(Buffer.from(runs[0].stdin, 'base64').equals(input), 'stdin');
    assert.equal(runs[0].cwd, ws.dir);
  });

  it("the command's exit code is passed on (7), and so is its death by a signal", async () => {
    const ws = new Workspace();
    ws.fake('psql', { exit: 7, stdout: Buffer.from('ERROR: relation "x" does not exist\n') });
    const r = await ws.run(['guard', 'exec', '--', 'psql', '-h', NAMES.app, '-c', 'select 1']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout.toString(), 'ERROR: relation "x" does not exist\n');
    assert.deepEqual(ws.runs('psql')[0].argv, ['-h', NAMES.app, '-c', 'select 1']);

    const killer = join(ws.bin, 'psql');
    writeFileSync(killer, '#!/bin/sh\nkill -TERM $$\n');
    const killed = await ws.run(['guard', 'exec', '--', 'psql', '-h', '127.0.0.1']);
    assert.deepEqual([killed.code, killed.signal], [null, 'SIGTERM'], killed.stderr);
  });

  it('a path to the tool runs that file; a bare name is never looked up in the working folder', async () => {
    const ws = new Workspace();
    const nothing = join(ws.dir, 'empty-path');
    mkdirSync(nothing);
    cpSync(join(ws.bin, 'psql'), join(ws.dir, 'psql'));
    const env = ws.env({ PATH: nothing });
    const byPath = await ws.run(['guard', 'exec', '--', './psql', '-h', '127.0.0.1'], { env });
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.deepEqual(ws.runs('psql')[0].argv, ['-h', '127.0.0.1']);
    const byName = await ws.run(['guard', 'exec', '--', 'psql', '-h', '127.0.0.1'], { env });
    assert.equal(byName.code, 4, byName.stderr);
    assert.equal(ws.runs('psql').length, 1);
  });
});

describe('guard exec through the terminal shims', () => {
  const runtime = { executable: process.execPath, cli, electron: false };

  it('an allowed command reaches the real tool behind the shim (no loop); a blocked one exits 3', async () => {
    const ws = new Workspace();
    const shims = join(ws.dir, 'shims');
    await writeShims(shims, ['ansible-playbook', 'ssh', 'kubectl'], runtime);
    ws.write('hosts.ini', `[web]\nweb1 ansible_host=${NAMES.app}\n[prod]\npi2 ansible_host=${NAMES.pi2}\n`);
    const env = ws.env({ PATH: `${shims}:${ws.bin}:${SYSTEM_PATH}`, INFRA_SANDBOX_SHIM_DIR: shims });
    const shim = join(shims, 'ansible-playbook');

    const allowed = await ws.run(['-i', 'hosts.ini', 'site.yml', '--limit', 'web', '-e', 'msg=hello world'], {
      executable: shim,
      env,
    });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(
      ws.runs('ansible-playbook').map((r) => r.argv),
      [['-i', 'hosts.ini', 'site.yml', '--limit', 'web', '-e', 'msg=hello world']],
    );

    const blocked = await ws.run(['-i', 'hosts.ini', 'site.yml'], { executable: shim, env });
    assert.equal(blocked.code, 3, blocked.stderr);
    assert.match(
      blocked.stderr,
      /pi2 → ansible_host pi2\.lan \(hosts\.ini:4\) .*192\.168\.1\.202 ∈ 192\.168\.1\.0\/24 production/,
    );
    assert.equal(ws.runs('ansible-playbook').length, 1, 'the blocked run never reached the tool');

    // ssh: the guard's own `ssh -G` and the real run both skip the shim.
    const ssh = await ws.run([NAMES.app, 'uptime'], { executable: join(shims, 'ssh'), env });
    assert.equal(ssh.code, 0, ssh.stderr);
    assert.deepEqual(ws.runs('ssh')[0].argv, [NAMES.app, 'uptime']);
  });

  it("another window's shim folder on PATH, or a lost INFRA_SANDBOX_SHIM_DIR, does not loop", async () => {
    const ws = new Workspace();
    const mine = join(ws.dir, 'shims-mine');
    const theirs = join(ws.dir, 'shims-theirs');
    await writeShims(mine, ['psql'], runtime);
    await writeShims(theirs, ['psql'], runtime);
    const path = `${mine}:${theirs}:${ws.bin}:${SYSTEM_PATH}`;
    for (const env of [ws.env({ PATH: path, INFRA_SANDBOX_SHIM_DIR: mine }), ws.env({ PATH: path })]) {
      const r = await ws.run(['-h', '127.0.0.1', '-c', 'select 1'], { executable: join(mine, 'psql'), env });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(ws.runs('psql').length, 2);
  });
});

describe('guard exec: names that do not resolve', () => {
  const cases: [what: string, name: string, label: string, server?: () => string][] = [
    ['NXDOMAIN', NAMES.missing, 'NXDOMAIN'],
    ['SERVFAIL', NAMES.servfail, 'SERVFAIL'],
    ['a DNS server that never answers', NAMES.app, 'timeout', () => silent.server],
  ];
  for (const [what, name, label, server] of cases) {
    it(`${what}: blocked under the default guard.onUnresolved (block), and says why`, async () => {
      const ws = new Workspace(server ? { dnsServers: [server()] } : {});
      const r = await ws.run(['guard', 'exec', '--', 'ssh', `deploy@${name}`, 'uptime']);
      assertRefused(r, 3, ws, 'ssh');
      assert.match(
        r.stderr,
        new RegExp(`^infra-sandbox: blocked ssh deploy@${name.replace(/\./g, '\\.')} uptime$`, 'm'),
      );
      assert.ok(r.stderr.includes(`${name} did not resolve: ${label}`), r.stderr);
      assert.match(r.stderr, /guard\.onUnresolved: block/);
      assert.match(r.stderr, /cannot tell where this goes.*set guard\.onUnresolved: warn in infra-sandbox\.yaml/);
    });
  }

  it('guard.onUnresolved: warn runs the command and prints a warning, even beside other notes', async () => {
    const ws = new Workspace({ onUnresolved: 'warn' });
    const r = await ws.run(['guard', 'exec', '--', 'psql', '-h', NAMES.missing]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ws.runs('psql').length, 1);
    assert.match(
      r.stderr,
      /^infra-sandbox: allowed psql -h missing\.example\.test — warning: .*missing\.example\.test did not resolve \(NXDOMAIN\); allowed because guard\.onUnresolved is warn\.$/m,
    );

    // An inventory brings notes of its own ("inventory from -i: …"); the warning must not hide behind them.
    ws.write('hosts.ini', `[web]\nweb1 ansible_host=${NAMES.app}\nweb2 ansible_host=${NAMES.missing}\n`);
    const a = await ws.run([
      'guard',
      '--inventory-parser',
      'builtin',
      'exec',
      '--',
      'ansible-playbook',
      '-i',
      'hosts.ini',
      'site.yml',
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(ws.runs('ansible-playbook').length, 1);
    assert.match(
      a.stderr,
      /warning: web2: missing\.example\.test did not resolve \(NXDOMAIN\); allowed because guard\.onUnresolved is warn\./,
    );
  });
});

describe('guard exec: inputs it cannot read → exit 2 with file:line, nothing runs', () => {
  const inventories: [name: string, line: RegExp][] = [
    ['broken.yml', /malformed\/broken\.yml:5:3: YAML syntax error/],
    ['bad-range.ini', /malformed\/bad-range\.ini:3: host range/],
    ['bad-vars/hosts.ini', /malformed\/bad-vars\/host_vars\/h1\.yml:3(:\d+)?: /],
  ];
  for (const [name, line] of inventories) {
    it(`a malformed inventory: ${name}`, async () => {
      const ws = new Workspace();
      const inventory = join(fixtures, 'inventories', 'malformed', name);
      const argv = ['ansible-playbook', '-i', inventory, 'site.yml'];
      const r = await ws.run(['guard', '--inventory-parser', 'builtin', 'exec', '--', ...argv]);
      assertRefused(r, 2, ws, 'ansible-playbook');
      assert.match(r.stderr, /^infra-sandbox: cannot decide — .* unreadable; nothing was run\.$/m);
      assert.match(r.stderr, line);
    });
  }

  it('a malformed kubeconfig', async () => {
    const ws = new Workspace();
    cpSync(join(fixtures, 'kube', 'malformed-config'), join(ws.dir, 'bad.yaml'));
    const r = await ws.run(['guard', 'exec', '--', 'kubectl', '--kubeconfig', 'bad.yaml', 'get', 'pods']);
    assertRefused(r, 2, ws, 'kubectl');
    assert.match(r.stderr, /bad\.yaml:6:\d+: kubeconfig is not valid YAML/);
  });

  it('malformed HCL in a tofu -chdir folder', async () => {
    const ws = new Workspace();
    ws.fake('tofu');
    cpSync(join(fixtures, 'tofu', 'malformed'), join(ws.dir, 'infra'), { recursive: true });
    const r = await ws.run(['guard', 'exec', '--', 'tofu', '-chdir=infra', 'plan']);
    assertRefused(r, 2, ws, 'tofu');
    for (const place of [
      'unclosed-block.tf:1:1: unclosed block',
      'unclosed-comment.tf:4:1: unterminated comment',
      'unclosed-heredoc.tf:2:12: unterminated heredoc',
      'unclosed-string.tf:6:13: unterminated string',
    ]) {
      assert.ok(r.stderr.includes(`infra/${place}`), `${place}\n${r.stderr}`);
    }
  });

  const configs: [what: string, text: string, line: RegExp][] = [
    [
      'a wrong value',
      'version: 1\nproduction:\n  networks: [192.168.1.0/24]\nguard: { onUnresolved: maybe }\n',
      /infra-sandbox\.yaml:4:\d+: error guard\.onUnresolved: must be one of: block, warn, allow/,
    ],
    ['broken YAML', 'version: 1\nproduction: [unclosed\n', /infra-sandbox\.yaml:\d+:\d+: error YAML syntax/],
    [
      'a production network that is no network',
      'version: 1\nproduction:\n  networks:\n    - 192.168.1.0/24\n    - 192.168.2.0/33\n',
      /infra-sandbox\.yaml:5:7: error production\.networks\[1\]: "192\.168\.2\.0\/33" has prefix length \/33/,
    ],
  ];
  for (const [what, text, line] of configs) {
    it(`an invalid infra-sandbox.yaml (${what}) fails closed: even a sandbox command does not run`, async () => {
      const ws = new Workspace();
      writeFileSync(ws.configFile, text);
      const r = await ws.run(['guard', 'exec', '--', 'psql', '-h', '127.0.0.1']);
      assertRefused(r, 2, ws, 'psql');
      assert.match(r.stderr, /the guard cannot tell what production is; nothing was run/);
      assert.match(r.stderr, line);
    });
  }

  it('a refused command is recorded as blocked in the verdict log, not as allowed', async () => {
    const ws = new Workspace();
    ws.fake('tofu');
    cpSync(join(fixtures, 'tofu', 'malformed'), join(ws.dir, 'infra'), { recursive: true });
    const r = await ws.run(['guard', 'exec', '--', 'tofu', '-chdir=infra', 'plan']);
    assert.equal(r.code, 2);
    const [record] = ws.verdictLog();
    assert.equal(record.verdict, 'block');
    assert.match(record.reason, /unclosed-block\.tf:1/);
  });
});

describe('guard exec: allowed, but the tool is not installed', () => {
  it('exit 4, naming the tool and how to install it', async () => {
    const ws = new Workspace();
    cpSync(join(fixtures, 'tofu', 'local-only'), join(ws.dir, 'infra'), { recursive: true });
    const r = await ws.run(['guard', 'exec', '--', 'tofu', '-chdir=infra', 'plan']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /^infra-sandbox: tofu: not found on PATH .*Install OpenTofu: see https:\/\/opentofu\.org\//m,
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});

describe('guard check', () => {
  it('--host: a sandbox name is allowed (exit 0, stdout), a production one blocked (exit 3)', async () => {
    const ws = new Workspace();
    const ok = await ws.run(['guard', 'check', '--host', NAMES.app]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      ok.stdout.toString(),
      'infra-sandbox: allowed — the target is outside production.\n' +
        '  app.sandbox.test (--host) → app.sandbox.test A 127.0.0.20 → 127.0.0.20 ∈ 127.0.0.0/8 sandbox\n',
    );
    const no = await ws.run(['guard', 'check', '--host', NAMES.app, '--host', NAMES.db]);
    assert.equal(no.code, 3, no.stderr);
    assert.match(no.stderr, /^infra-sandbox: blocked — 1 of 2 targets is production$/m);
    assert.match(no.stderr, /db\.corp\.example \(--host\) → .*192\.168\.1\.10 ∈ 192\.168\.1\.0\/24 production/);
    assert.match(no.stderr, PROCEED);
  });

  it('--json: one parseable verdict on stdout with the fields of SPEC §4', async () => {
    const ws = new Workspace();
    const r = await ws.run(['--json', 'guard', 'check', '--host', NAMES.www, '--host', NAMES.node1]);
    assert.equal(r.code, 3);
    const v = JSON.parse(r.stdout.toString()) as {
      verdict: string;
      environment: string;
      reason: string;
      targets: {
        kind: string;
        name: string;
        source: string;
        chain: string[];
        addresses: string[];
        production: boolean;
        rule: string | null;
      }[];
    };
    assert.equal(v.verdict, 'block');
    assert.equal(v.environment, 'sandbox');
    assert.match(v.reason, /www\.corp\.example/);
    assert.deepEqual(
      v.targets.map((t) => [t.kind, t.name, t.source, t.addresses, t.production, t.rule]),
      [
        ['host', NAMES.www, '--host', ['192.168.1.10'], true, 'host *.corp.example production'],
        ['host', NAMES.node1, '--host', ['192.168.64.11'], false, '192.168.64.0/24 sandbox'],
      ],
    );
    assert.ok(v.targets[0].chain.includes('www.corp.example CNAME db.corp.example'), v.targets[0].chain.join(' | '));
  });

  it('--inventory homelab production --limit pi1: blocked, naming pi1 and 192.168.1.201', async () => {
    const ws = new Workspace();
    const r = await ws.run(['guard', 'check', '--inventory', homelabProduction, '--limit', 'pi1']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /^ {2}pi1 → ansible_host 192\.168\.1\.201 \(.*hosts\.ini:3\) → 192\.168\.1\.201 ∈ 192\.168\.1\.0\/24 production$/m,
    );
    assert.doesNotMatch(r.stderr, /pi2|pi3/, '--limit pi1 keeps only pi1');
  });

  it('without any target: exit 2 and what to give', async () => {
    const ws = new Workspace();
    const r = await ws.run(['guard', 'check']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /guard check needs at least one target: --inventory/);
  });
});

describe('guard check: --inventory-parser builtin ≡ ansible (the real ansible-inventory)', () => {
  const inventories: [string, string][] = [
    ['homelab production', homelabProduction],
    ...[
      'ini/hosts.ini',
      'precedence/hosts.ini',
      'yaml/hosts.yml',
      'dir',
      'containers/hosts.yml',
      'limit/hosts.ini',
    ].map((p): [string, string] => [p, join(fixtures, 'inventories', p)]),
  ];
  const skip = existsSync('/usr/bin/ansible-inventory') ? false : 'ansible-inventory is not installed';

  for (const [name, inventory] of inventories) {
    it(name, { skip }, async () => {
      const ws = new Workspace({ onUnresolved: 'warn' });
      const verdict = async (parser: string) => {
        const r = await ws.run(['--json', 'guard', '--inventory-parser', parser, 'check', '--inventory', inventory]);
        assert.ok(r.code === 0 || r.code === 3, `${parser}: exit ${r.code}\n${r.stderr}`);
        const v = JSON.parse(r.stdout.toString()) as {
          verdict: string;
          notes: string[];
          targets: { name: string; addresses: string[] }[];
        };
        const targets = v.targets.map((t) => `${t.name} ${[...t.addresses].sort().join(',')}`).sort();
        return { code: r.code, verdict: v.verdict, targets, notes: v.notes };
      };
      const builtin = await verdict('builtin');
      const ansible = await verdict('ansible');
      assert.ok(ansible.notes.includes('inventory read with ansible-inventory'), ansible.notes.join('\n'));
      assert.ok(builtin.targets.length > 0);
      assert.deepEqual(ansible.targets, builtin.targets);
      assert.deepEqual([ansible.code, ansible.verdict], [builtin.code, builtin.verdict]);
    });
  }
});

describe('the verdict log next to infra-sandbox.yaml', () => {
  it('a blocked guard exec appends one line with the command and the blocking target', async () => {
    const ws = new Workspace();
    const sub = join(ws.dir, 'ansible');
    mkdirSync(sub);
    assert.equal((await ws.run(['guard', 'exec', '--', 'ssh', 'admin@192.168.1.10'], { cwd: sub })).code, 3);
    assert.equal((await ws.run(['guard', 'exec', '--', 'psql', '-h', NAMES.db], { cwd: sub })).code, 3);
    const log = ws.verdictLog();
    assert.equal(log.length, 2);
    const [first, second] = log;
    assert.deepEqual([first.verdict, first.command, first.cwd], ['block', ['ssh', 'admin@192.168.1.10'], sub]);
    assert.deepEqual(
      first.targets.map((t) => [t.name, t.production, t.rule]),
      [['192.168.1.10', true, '192.168.1.0/24 production']],
    );
    assert.deepEqual([second.verdict, second.command], ['block', ['psql', '-h', NAMES.db]]);
    assert.ok(!Number.isNaN(Date.parse(second.at)));
  });
});
