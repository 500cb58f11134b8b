import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResolver } from '../../../src/core/guard/resolver';
import { freePort, NAMES, silentDnsServer, startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq';

describe('guard resolver against a real dnsmasq', () => {
  let dns: Dnsmasq;
  before(async () => {
    dns = await startDnsmasq();
  });
  after(async () => {
    await dns.stop();
  });
  const fresh = (opts: { timeoutMs?: number; ttlMs?: number } = {}) =>
    createResolver({ dnsServers: [dns.server], ...opts });

  it('answers A records and names the hop', async () => {
    const r = await fresh().resolve(NAMES.pi2);
    assert.deepEqual(r.addresses, ['192.168.1.202']);
    assert.deepEqual(r.chain, ['pi2.lan A 192.168.1.202']);
    assert.equal(r.unresolved, undefined);
  });

  it('answers both A and AAAA, the AAAA in canonical form', async () => {
    const r = await fresh().resolve(NAMES.dual);
    assert.deepEqual(r.addresses, ['127.0.0.21', 'fd00:64::21']);
    assert.deepEqual(r.chain, ['dual.sandbox.test A 127.0.0.21', 'dual.sandbox.test AAAA fd00:64::21']);
  });

  it('an IPv6-only name resolves (the missing A is NODATA, not a failure)', async () => {
    const r = await fresh().resolve(NAMES.v6only);
    assert.deepEqual(r.addresses, ['2001:db8:1::10']);
    assert.equal(r.unresolved, undefined);
  });

  it('keeps every A record of a name', async () => {
    const r = await fresh().resolve(NAMES.split);
    assert.deepEqual([...r.addresses].sort(), ['127.0.0.5', '192.168.1.66']);
  });

  it('follows a CNAME chain and names each hop', async () => {
    const r = await fresh().resolve(NAMES.alias);
    assert.deepEqual(r.chain, [
      'alias.sandbox.test CNAME mid.sandbox.test',
      'mid.sandbox.test CNAME api.sandbox.test',
      'api.sandbox.test A 192.168.1.30',
    ]);
    assert.deepEqual(r.names, ['alias.sandbox.test', 'mid.sandbox.test', 'api.sandbox.test']);
    assert.deepEqual(r.addresses, ['192.168.1.30']);
  });

  it('is indifferent to letter case and a trailing dot', async () => {
    const r = await fresh().resolve('WWW.Corp.Example.');
    assert.deepEqual(r.chain, ['www.corp.example CNAME db.corp.example', 'db.corp.example A 192.168.1.10']);
  });

  it('NXDOMAIN, SERVFAIL and REFUSED each come back as such', async () => {
    const r = fresh();
    const nx = await r.resolve(NAMES.missing);
    assert.deepEqual([nx.unresolved, nx.detail, nx.addresses], ['nxdomain', 'NXDOMAIN', []]);
    const sf = await r.resolve(NAMES.servfail);
    assert.equal(sf.unresolved, 'servfail');
    assert.match(sf.detail ?? '', /SERVFAIL/);
    const rf = await r.resolve(NAMES.refused);
    assert.equal(rf.unresolved, 'refused');
    assert.match(rf.detail ?? '', /REFUSED/);
  });

  it('servers that never answer are a timeout, within the budget for the whole host', async () => {
    // Two silent servers: c-ares alone would wait 300 ms for each in turn (~800 ms in all).
    const one = await silentDnsServer();
    const two = await silentDnsServer();
    try {
      const started = Date.now();
      const r = await createResolver({ dnsServers: [one.server, two.server], timeoutMs: 300 }).resolve(NAMES.db);
      const took = Date.now() - started;
      assert.equal(r.unresolved, 'timeout');
      assert.match(r.detail ?? '', /no answer within 300 ms/);
      assert.ok(took >= 290 && took < 550, `took ${took} ms`);
      assert.ok(one.received() > 0, 'the query was sent to the silent server');
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('a DNS server that is not listening is "refused", at once', async () => {
    const port = await freePort();
    const r = await createResolver({ dnsServers: [`127.0.0.1:${port}`], timeoutMs: 5000 }).resolve(NAMES.db);
    assert.equal(r.unresolved, 'refused');
    assert.match(r.detail ?? '', /connection refused/);
  });

  it('a bad guard.dnsServers entry fails every lookup with a message naming it', async () => {
    const r = await createResolver({ dnsServers: ['dns.corp.example'] }).resolve(NAMES.pi2);
    assert.equal(r.unresolved, 'error');
    assert.match(r.detail ?? '', /guard\.dnsServers .*dns\.corp\.example/);
  });

  it('address literals answer themselves without asking DNS', async () => {
    const r = fresh();
    const before = dns.queryCount('3232235978');
    const lit = await r.resolve('3232235978');
    assert.deepEqual(lit.addresses, ['192.168.1.202']);
    assert.deepEqual(lit.chain, ['3232235978 is 192.168.1.202']);
    assert.deepEqual((await r.resolve('[::ffff:c0a8:1ca]')).addresses, ['192.168.1.202']);
    // Even with no server at all, a literal resolves.
    const none = createResolver({ dnsServers: ['127.0.0.1:9'] });
    assert.deepEqual((await none.resolve('0300.0250.1.202')).addresses, ['192.168.1.202']);
    assert.equal(dns.queryCount('3232235978'), before);
  });

  it('caches an answer for its TTL: the second lookup sends no query', async () => {
    const r = fresh();
    await r.resolve(NAMES.node1);
    const asked = await settledCount(dns, NAMES.node1);
    assert.ok(asked >= 2, `first lookup asked ${asked} queries`);
    const again = await r.resolve('Node1.Sandbox.Test');
    assert.deepEqual(again.addresses, ['192.168.64.11']);
    assert.equal(await settledCount(dns, NAMES.node1), asked);
  });

  it('shares one lookup between concurrent callers', async () => {
    const r = fresh();
    const answers = await Promise.all(Array.from({ length: 10 }, () => r.resolve(NAMES.legacy)));
    assert.ok(answers.every((a) => a.addresses[0] === '127.0.0.30'));
    // One lookup = A + AAAA + CNAME for the name (and one CNAME query for the target).
    assert.equal(await settledCount(dns, NAMES.legacy), 3);
  });

  it('after the TTL the name is asked again; within it, a stopped server does not matter', async () => {
    const own = await startDnsmasq({ hostRecords: ['ttl.example.test,127.0.0.40'], localDomains: ['test'] });
    try {
      const short = createResolver({ dnsServers: [own.server], ttlMs: 100 });
      const long = createResolver({ dnsServers: [own.server], ttlMs: 60_000 });
      await short.resolve('ttl.example.test');
      await long.resolve('ttl.example.test');
      const asked = await settledCount(own, 'ttl.example.test');
      await new Promise((done) => setTimeout(done, 150));
      await short.resolve('ttl.example.test');
      assert.ok((await settledCount(own, 'ttl.example.test')) > asked, 'expired entry asked again');
      await own.stop();
      const cached = await long.resolve('ttl.example.test');
      assert.deepEqual(cached.addresses, ['127.0.0.40']);
      assert.equal(cached.unresolved, undefined);
    } finally {
      await own.stop();
    }
  });

  it('with no dnsServers uses the system resolver: /etc/hosts counts', async () => {
    const r = await createResolver({ dnsServers: [] }).resolve('localhost');
    assert.ok(r.addresses.includes('127.0.0.1'), JSON.stringify(r));
    assert.equal(r.unresolved, undefined);
  });
});

/** dnsmasq writes its log a moment after answering: the count once it stops changing. */
async function settledCount(dns: Dnsmasq, name: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const n = dns.queryCount(name);
    if (n === last && n > 0) return n;
    last = n;
    await new Promise((done) => setTimeout(done, 50));
  }
  return last;
}
