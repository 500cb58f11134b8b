import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import {
  boundaryFromConfig,
  boundaryProblems,
  matchAddress,
  matchHostName,
  matchKubeContext,
  matchStateBackend,
} from '../../../src/core/guard/boundary';

function boundary(production: WorkspaceConfig['production'], sandbox: string[] = []) {
  return boundaryFromConfig({ version: 1, production, sandbox: { networks: sandbox } });
}

describe('boundary from the workspace config', () => {
  it('fills the documented defaults', () => {
    assert.deepEqual(boundaryFromConfig({ version: 1 }), {
      production: { networks: [], hosts: [], kubeContexts: [], stateBackends: [], env: [] },
      sandbox: { networks: [] },
      onUnresolved: 'block',
      dnsServers: [],
    });
  });

  it('takes the guard settings', () => {
    const b = boundaryFromConfig({ version: 1, guard: { onUnresolved: 'warn', dnsServers: ['127.0.0.1:5353'] } });
    assert.equal(b.onUnresolved, 'warn');
    assert.deepEqual(b.dnsServers, ['127.0.0.1:5353']);
  });
});

describe('addresses against networks', () => {
  it('a more specific sandbox network inside production is sandbox', () => {
    const b = boundary({ networks: ['192.168.0.0/16'] }, ['192.168.64.0/24']);
    assert.deepEqual(matchAddress('192.168.64.7', b), { zone: 'sandbox', cidr: '192.168.64.0/24' });
    assert.deepEqual(matchAddress('192.168.65.7', b), { zone: 'production', cidr: '192.168.0.0/16' });
  });

  it('a more specific production network inside a sandbox is production', () => {
    const b = boundary({ networks: ['192.168.64.0/24'] }, ['192.168.0.0/16']);
    assert.deepEqual(matchAddress('192.168.64.7', b), { zone: 'production', cidr: '192.168.64.0/24' });
    assert.deepEqual(matchAddress('192.168.65.7', b), { zone: 'sandbox', cidr: '192.168.0.0/16' });
  });

  it('equal prefixes in both lists: production wins', () => {
    const b = boundary({ networks: ['10.0.0.0/8'] }, ['10.0.0.0/8']);
    assert.deepEqual(matchAddress('10.1.2.3', b), { zone: 'production', cidr: '10.0.0.0/8' });
  });

  it('matches every spelling of an address, and says when nothing matches', () => {
    const b = boundary({ networks: ['192.168.1.0/24'] }, ['127.0.0.0/8']);
    for (const spelling of ['3232235978', '0xC0A801CA', '::ffff:192.168.1.202', '[::ffff:c0a8:1ca]']) {
      assert.equal(matchAddress(spelling, b).zone, 'production', spelling);
    }
    assert.deepEqual(matchAddress('127.1', b), { zone: 'sandbox', cidr: '127.0.0.0/8' });
    assert.deepEqual(matchAddress('192.168.2.1', b), { zone: null, cidr: null });
    assert.deepEqual(matchAddress('pi2.lan', b), { zone: null, cidr: null });
  });

  it('IPv6 networks, and an IPv4-mapped network holding the IPv4 addresses it maps', () => {
    const b = boundary({ networks: ['2001:db8:1::/64', '::ffff:10.9.0.0/112'] }, ['fd00:64::/64', '2001:db8::/32']);
    assert.deepEqual(matchAddress('2001:DB8:1:0::10', b), { zone: 'production', cidr: '2001:db8:1::/64' });
    assert.deepEqual(matchAddress('2001:db8:2::10', b), { zone: 'sandbox', cidr: '2001:db8::/32' });
    assert.deepEqual(matchAddress('fd00:64::21%eth0', b), { zone: 'sandbox', cidr: 'fd00:64::/64' });
    assert.deepEqual(matchAddress('10.9.3.4', b), { zone: 'production', cidr: '::ffff:10.9.0.0/112' });
    assert.deepEqual(matchAddress('10.8.3.4', b), { zone: null, cidr: null });
  });

  it('reports networks that are not CIDRs, by key', () => {
    const b = boundary({ networks: ['192.168.1.0/24', '10/8', '192.168.1.0/33', 'prod-lan'] }, ['fd00::/129']);
    assert.deepEqual(
      boundaryProblems(b).map((p) => [p.key, p.value]),
      [
        ['production.networks[1]', '10/8'],
        ['production.networks[2]', '192.168.1.0/33'],
        ['production.networks[3]', 'prod-lan'],
        ['sandbox.networks[0]', 'fd00::/129'],
      ],
    );
    assert.match(boundaryProblems(b)[0].message, /four decimal parts \(e\.g\. 10\.0\.0\.0\/8\)/);
    assert.match(boundaryProblems(b)[1].message, /IPv4 allows 0–32/);
    assert.deepEqual(boundaryProblems(boundary({ networks: ['192.168.1.0/24'] })), []);
    // The good network still matches.
    assert.equal(matchAddress('192.168.1.1', b).zone, 'production');
  });
});

describe('names against patterns', () => {
  const b = boundary({
    hosts: ['*.corp.example', 'db01', 'pi?.lan'],
    kubeContexts: ['corp-prod', 'prod-*'],
    stateBackends: ['gcs://corp-tf/prod', 's3://corp/prod/', 'gcs://corp-tf/legacy*'],
  });

  it('host globs: * spans dots but needs the dot before the domain; ? is one character', () => {
    assert.equal(matchHostName('a.corp.example', b), '*.corp.example');
    assert.equal(matchHostName('a.b.corp.example', b), '*.corp.example');
    assert.equal(matchHostName('A.Corp.Example.', b), '*.corp.example');
    assert.equal(matchHostName('corp.example', b), null);
    assert.equal(matchHostName('evilcorp.example', b), null);
    assert.equal(matchHostName('db01', b), 'db01');
    assert.equal(matchHostName('db011', b), null);
    assert.equal(matchHostName('pi2.lan', b), 'pi?.lan');
    assert.equal(matchHostName('pi22.lan', b), null);
    assert.equal(matchHostName('pi2xlan', b), null);
  });

  it('kube contexts: exact names and globs, any case', () => {
    assert.equal(matchKubeContext('corp-prod', b), 'corp-prod');
    assert.equal(matchKubeContext('Corp-Prod', b), 'corp-prod');
    assert.equal(matchKubeContext('prod-eu', b), 'prod-*');
    assert.equal(matchKubeContext('corp-prod-2', b), null);
    assert.equal(matchKubeContext('k3d-lab', b), null);
  });

  it('state backends: prefixes on whole path segments, trailing slashes ignored', () => {
    assert.equal(matchStateBackend('gcs://corp-tf/prod', b), 'gcs://corp-tf/prod');
    assert.equal(matchStateBackend('gcs://corp-tf/prod/', b), 'gcs://corp-tf/prod');
    assert.equal(matchStateBackend('gcs://corp-tf/prod/net/default.tfstate', b), 'gcs://corp-tf/prod');
    assert.equal(matchStateBackend('GCS://corp-tf//prod/net', b), 'gcs://corp-tf/prod');
    assert.equal(matchStateBackend('gcs://corp-tf/production-old', b), null);
    assert.equal(matchStateBackend('gcs://corp-tf/sandbox/prod', b), null);
    assert.equal(matchStateBackend('s3://corp/prod', b), 's3://corp/prod/');
    assert.equal(matchStateBackend('s3://corp/prod/terraform.tfstate', b), 's3://corp/prod/');
    assert.equal(matchStateBackend('s3://corp/prodx', b), null);
    assert.equal(matchStateBackend('gcs://corp-tf/legacy-eu/net', b), 'gcs://corp-tf/legacy*');
  });
});
