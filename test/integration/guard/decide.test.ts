import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { boundaryFromConfig } from '../../../src/core/guard/boundary';
import { decide } from '../../../src/core/guard/decide';
import { formatVerdict } from '../../../src/core/guard/format';
import { createResolver, type Resolver } from '../../../src/core/guard/resolver';
import type { Boundary, ResolvedTarget, Target, Verdict } from '../../../src/core/guard/types';
import { GUARD_CONFIG, NAMES, silentDnsServer, startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq';

/** A host named on the command line, as the ssh extractor would give it. */
function host(h: string, argIndex = 1): Target {
  return { kind: 'host', name: h, host: h, source: { kind: 'argv', argIndex }, chain: [h] };
}

function only(v: Verdict): ResolvedTarget {
  assert.equal(v.targets.length, 1);
  return v.targets[0];
}

describe('guard decision against a real dnsmasq', () => {
  let dns: Dnsmasq;
  let resolver: Resolver;
  let boundary: Boundary;
  const config = (extra: Partial<WorkspaceConfig> = {}): Boundary =>
    boundaryFromConfig({ version: 1, ...GUARD_CONFIG, guard: { dnsServers: [dns.server] }, ...extra });

  before(async () => {
    dns = await startDnsmasq();
    resolver = createResolver({ dnsServers: [dns.server] });
    boundary = config();
  });
  after(async () => {
    await dns.stop();
  });

  it('blocks a name in a production network, with the chain and the rule', async () => {
    const v = await decide([host(NAMES.pi2)], boundary, resolver, { command: ['ssh', NAMES.pi2] });
    assert.equal(v.verdict, 'block');
    assert.deepEqual(only(v), {
      kind: 'host',
      name: 'pi2.lan',
      source: 'argv[1]',
      chain: ['pi2.lan', 'pi2.lan A 192.168.1.202', '192.168.1.202 ∈ 192.168.1.0/24 production'],
      addresses: ['192.168.1.202'],
      production: true,
      rule: '192.168.1.0/24 production',
    });
    assert.equal(v.reason, 'pi2.lan (argv[1]) is production: 192.168.1.202 ∈ 192.168.1.0/24 production.');
    assert.deepEqual(v.command, ['ssh', 'pi2.lan']);
    assert.equal(v.environment, 'sandbox');
  });

  it('names every hop of a CNAME chain that ends in production', async () => {
    const t = only(await decide([host(NAMES.alias)], boundary, resolver));
    assert.deepEqual(t.chain, [
      'alias.sandbox.test',
      'alias.sandbox.test CNAME mid.sandbox.test',
      'mid.sandbox.test CNAME api.sandbox.test',
      'api.sandbox.test A 192.168.1.30',
      '192.168.1.30 ∈ 192.168.1.0/24 production',
    ]);
    assert.equal(t.production, true);
  });

  it('a production host pattern matches the name as typed, and any CNAME hop', async () => {
    const www = only(await decide([host('WWW.corp.example.')], boundary, resolver));
    assert.equal(www.rule, 'host *.corp.example production');
    // legacy.example.test → old.corp.example, whose address is a sandbox one: the name still decides.
    const legacy = only(await decide([host(NAMES.legacy)], boundary, resolver));
    assert.equal(legacy.production, true);
    assert.equal(legacy.rule, 'host *.corp.example production');
    assert.deepEqual(legacy.chain.slice(1), [
      'legacy.example.test CNAME old.corp.example',
      'old.corp.example A 127.0.0.30',
      '127.0.0.30 ∈ 127.0.0.0/8 sandbox',
      'host *.corp.example production',
    ]);
  });

  it('blocks a name with one sandbox and one production address, showing the production one first', async () => {
    const t = only(await decide([host(NAMES.split)], boundary, resolver));
    assert.equal(t.production, true);
    assert.equal(t.rule, '192.168.1.0/24 production');
    assert.deepEqual(t.chain.slice(-2), [
      '192.168.1.66 ∈ 192.168.1.0/24 production',
      '127.0.0.5 ∈ 127.0.0.0/8 sandbox',
    ]);
  });

  it('blocks an IPv6-only name in a production IPv6 network', async () => {
    const t = only(await decide([host(NAMES.v6only)], boundary, resolver));
    assert.deepEqual([t.production, t.rule, t.addresses], [true, '2001:db8:1::/64 production', ['2001:db8:1::10']]);
  });

  it('allows sandbox names and says which network made them sandbox', async () => {
    const v = await decide([host(NAMES.app), host(NAMES.dual, 2)], boundary, resolver);
    assert.equal(v.verdict, 'allow');
    assert.deepEqual(
      v.targets.map((t) => t.rule),
      ['127.0.0.0/8 sandbox', '127.0.0.0/8 sandbox'],
    );
    assert.equal(v.reason, 'All 2 targets are outside production.');
  });

  it('a more specific sandbox network inside a production one is allowed; the rest of production is not', async () => {
    const wide = config({ production: { networks: ['192.168.0.0/16'] }, sandbox: { networks: ['192.168.64.0/24'] } });
    const sandbox = only(await decide([host(NAMES.node1)], wide, resolver));
    assert.deepEqual([sandbox.production, sandbox.rule], [false, '192.168.64.0/24 sandbox']);
    const prod = only(await decide([host(NAMES.pi2)], wide, resolver));
    assert.deepEqual([prod.production, prod.rule], [true, '192.168.0.0/16 production']);
  });

  it('blocks every spelling of a production address, without asking DNS', async () => {
    const spellings = [
      '192.168.1.202',
      '3232235978',
      '0300.0250.1.202',
      '0xC0A801CA',
      '0xc0.0xa8.1.0xca',
      '192.168.0x1ca',
      '192.168.1.202.',
      '::ffff:192.168.1.202',
      '::FFFF:C0A8:1CA',
      '[::ffff:c0a8:1ca]',
    ];
    const silent = await silentDnsServer();
    try {
      const noDns = createResolver({ dnsServers: [silent.server], timeoutMs: 200 });
      const v = await decide(
        spellings.map((s, i) => host(s, i + 1)),
        boundary,
        noDns,
      );
      for (const t of v.targets) {
        assert.deepEqual([t.name, t.production, t.addresses], [t.name, true, ['192.168.1.202']]);
        assert.equal(t.chain.at(-1), '192.168.1.202 ∈ 192.168.1.0/24 production');
      }
      assert.equal(v.verdict, 'block');
      assert.equal(silent.received(), 0, 'no DNS query for an address literal');
    } finally {
      await silent.close();
    }
  });

  it('NXDOMAIN, SERVFAIL and timeout each block by default, saying which', async () => {
    const silent = await silentDnsServer();
    try {
      const timingOut = createResolver({ dnsServers: [silent.server], timeoutMs: 200 });
      const cases: [string, Resolver, string, RegExp][] = [
        [NAMES.missing, resolver, 'nxdomain', /could not be resolved \(NXDOMAIN\)/],
        [NAMES.servfail, resolver, 'servfail', /could not be resolved \(SERVFAIL\)/],
        ['db.sandbox.test', timingOut, 'timeout', /could not be resolved \(timeout\)/],
      ];
      for (const [name, r, reason, message] of cases) {
        const v = await decide([host(name)], boundary, r, { command: ['ssh', name] });
        const t = only(v);
        assert.equal(v.verdict, 'block', name);
        assert.deepEqual([t.unresolved, t.production], [reason, true], name);
        assert.match(t.rule ?? '', /^unresolved: (NXDOMAIN|SERVFAIL|timeout).*\(guard\.onUnresolved: block\)$/);
        assert.match(v.reason, message);
        assert.match(formatVerdict(v), /guard\.onUnresolved: block/);
        assert.match(formatVerdict(v), /cannot tell where this goes/);
      }
    } finally {
      await silent.close();
    }
  });

  it('onUnresolved warn allows with a note; allow allows quietly', async () => {
    const warn = await decide([host(NAMES.missing)], config({ guard: { onUnresolved: 'warn' } }), resolver);
    assert.equal(warn.verdict, 'allow');
    assert.equal(warn.reason, 'The target could not be resolved and guard.onUnresolved is warn.');
    assert.equal(only(warn).rule, 'unresolved: NXDOMAIN (guard.onUnresolved: warn)');
    assert.deepEqual(warn.notes, [
      'missing.example.test did not resolve (NXDOMAIN); allowed because guard.onUnresolved is warn.',
    ]);
    assert.equal(
      formatVerdict(warn),
      'infra-sandbox: allowed — warning: missing.example.test did not resolve (NXDOMAIN); allowed because guard.onUnresolved is warn.',
    );
    assert.equal(formatVerdict(warn).split('\n').length, 1);

    const allow = await decide([host(NAMES.missing)], config({ guard: { onUnresolved: 'allow' } }), resolver);
    assert.equal(allow.verdict, 'allow');
    assert.deepEqual([only(allow).production, allow.notes], [false, []]);
    assert.equal(only(allow).rule, 'unresolved: NXDOMAIN (guard.onUnresolved: allow)');
    assert.equal(
      formatVerdict(allow),
      'infra-sandbox: allowed — the target could not be resolved and guard.onUnresolved is allow.',
    );
    const mixed = await decide(
      [host(NAMES.app), host(NAMES.missing, 2)],
      config({ guard: { onUnresolved: 'allow' } }),
      resolver,
      { command: ['ssh', NAMES.app] },
    );
    assert.equal(
      formatVerdict(mixed),
      'infra-sandbox: allowed ssh app.sandbox.test — 1 of 2 targets are outside production; 1 could not be resolved and guard.onUnresolved is allow.',
    );
  });

  it('a production address still blocks under onUnresolved allow', async () => {
    // split.example.test resolves; the policy only concerns names that do not.
    const v = await decide([host(NAMES.split)], config({ guard: { onUnresolved: 'allow' } }), resolver);
    assert.equal(v.verdict, 'block');
  });

  it('kube contexts and state backends are matched by name; the context server is still resolved', async () => {
    const kube: Target = {
      kind: 'kube-context',
      name: 'corp-prod',
      kubeContext: 'corp-prod',
      host: NAMES.app,
      source: { kind: 'config', detail: 'current context' },
      chain: ['context corp-prod', `server https://${NAMES.app}:6443`],
    };
    const state: Target = {
      kind: 'state-backend',
      name: 'backend "gcs"',
      stateBackend: 'gcs://corp-tf/prod/net',
      source: { kind: 'file', file: '/work/infra/net/backend.tf', line: 3 },
      chain: ['backend "gcs" bucket corp-tf prefix prod/net'],
    };
    const sandboxState: Target = { ...state, stateBackend: 'gcs://corp-tf/production-old' };
    const v = await decide([kube, state, sandboxState], boundary, resolver, { baseDir: '/work/infra' });
    const [k, s, other] = v.targets;
    assert.deepEqual(
      [k.production, k.rule, k.addresses, k.source],
      [true, 'kube context corp-prod production', ['127.0.0.20'], 'current context'],
    );
    assert.deepEqual(
      [s.production, s.rule, s.source],
      [true, 'state backend gcs://corp-tf/prod production', 'net/backend.tf:3'],
    );
    assert.deepEqual([other.production, other.rule], [false, null]);
    assert.equal(v.verdict, 'block');
  });

  it('local targets are reported and never block; no targets at all is an allow', async () => {
    const local: Target = {
      kind: 'local',
      name: 'localhost',
      source: { kind: 'env', envVar: 'DOCKER_HOST' },
      chain: ['DOCKER_HOST → unix:///run/docker.sock (local engine)'],
    };
    const v = await decide([local], boundary, resolver);
    assert.deepEqual([v.verdict, only(v).rule, only(v).source], ['allow', null, '$DOCKER_HOST']);
    const none = await decide([], boundary, resolver, { environment: 'production' });
    assert.deepEqual(
      [none.verdict, none.reason, none.environment],
      ['allow', 'no network targets found', 'production'],
    );
  });

  it('uses the system resolver without dnsServers: localhost from /etc/hosts is sandbox', async () => {
    const system = config({ guard: {} });
    assert.deepEqual(system.dnsServers, []);
    const v = await decide([host('localhost')], system, createResolver({ dnsServers: system.dnsServers }));
    assert.equal(v.verdict, 'allow');
    assert.equal(only(v).rule, '127.0.0.0/8 sandbox');
    assert.ok(only(v).addresses.includes('127.0.0.1'));
  });

  it('a broken production network blocks everything, naming the entry', async () => {
    const broken = config({ production: { networks: ['192.168.1.0/24', '10/8'] } });
    const v = await decide([host(NAMES.app)], broken, resolver, { command: ['ssh', NAMES.app] });
    assert.equal(v.verdict, 'block');
    assert.match(v.reason, /production\.networks\[1\] "10\/8"/);
    assert.match(
      formatVerdict(v),
      /^infra-sandbox: blocked ssh app\.sandbox\.test\n {2}The production boundary is broken/,
    );
  });

  it('the blocked message shows the command, the chains of the first targets and how to go on', async () => {
    const targets: Target[] = [
      {
        kind: 'host',
        name: 'pi2',
        host: NAMES.pi2,
        source: { kind: 'file', file: '/work/ansible/host_vars/pi2.yml', line: 3 },
        chain: ['pi2', 'ansible_host pi2.lan (host_vars/pi2.yml:3)'],
      },
      host(NAMES.app, 4),
      host(NAMES.db, 5),
      host(NAMES.split, 6),
      host(NAMES.v6only, 7),
      host(NAMES.alias, 8),
    ];
    const v = await decide(targets, boundary, resolver, {
      command: ['ansible-playbook', '-i', 'inventories/production', 'site.yml', '-e', 'msg=hello world'],
      baseDir: '/work/ansible',
    });
    const lines = formatVerdict(v).split('\n');
    assert.deepEqual(lines.slice(0, 6), [
      "infra-sandbox: blocked ansible-playbook -i inventories/production site.yml -e 'msg=hello world'",
      '  pi2 → ansible_host pi2.lan (host_vars/pi2.yml:3) → pi2.lan A 192.168.1.202 → 192.168.1.202 ∈ 192.168.1.0/24 production',
      '  db.corp.example (argv[5]) → db.corp.example A 192.168.1.10 → 192.168.1.10 ∈ 192.168.1.0/24 production → host *.corp.example production',
      '  split.example.test (argv[6]) → split.example.test A 127.0.0.5, 192.168.1.66 → 192.168.1.66 ∈ 192.168.1.0/24 production → 127.0.0.5 ∈ 127.0.0.0/8 sandbox',
      '  (+2 more production targets)',
      'This is production: point it at a sandbox instead. This version has no override (production windows with a passing gate come with the ledger); to act on production anyway, run the tool by its full path, e.g. /usr/bin/ansible-playbook.',
    ]);
    assert.equal(lines.length, 6);
    assert.match(v.reason, /^pi2 \(host_vars\/pi2\.yml:3\) is production: .* \(and 4 more production targets\)\.$/);
    const ESC = '\u001b';
    assert.ok(formatVerdict(v, { color: true }).includes(`${ESC}[1;31mblocked${ESC}[0m`));
    assert.ok(!formatVerdict(v).includes(ESC));
  });

  it('decides 5,000 literal inventory hosts without a single DNS query', async () => {
    const silent = await silentDnsServer();
    try {
      const r = createResolver({ dnsServers: [silent.server], timeoutMs: 200 });
      const targets = Array.from({ length: 5000 }, (_, i) => host(`127.0.${(i >> 8) & 255}.${i & 255}`, i + 1));
      targets.push(host('0xC0A801CA', 5001));
      const v = await decide(targets, boundary, r);
      assert.equal(v.targets.length, 5001);
      assert.equal(v.targets.filter((t) => t.production).length, 1);
      assert.equal(v.verdict, 'block');
      assert.equal(silent.received(), 0);
    } finally {
      await silent.close();
    }
  });
});
