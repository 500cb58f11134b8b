import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import {
  fileFindings,
  guardFileKind,
  usedBySandboxOrGate,
  type FileFindingsOptions,
} from '../../../src/core/guard/fileFindings';
import { createResolver } from '../../../src/core/guard/resolver';
import { GUARD_CONFIG, NAMES, startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq';
import { tempDir } from '../../helpers/tmp';

/** Writes `files` (path → text) under a new folder and returns it. */
function workspace(files: Record<string, string>): string {
  const root = tempDir('findings');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('guard findings for the editor (real dnsmasq)', () => {
  let dns: Dnsmasq;
  let config: WorkspaceConfig;
  let options: (root: string, extra?: Partial<FileFindingsOptions>) => FileFindingsOptions;

  before(async () => {
    dns = await startDnsmasq();
    config = { version: 1, ...GUARD_CONFIG, guard: { dnsServers: [dns.server] } };
    const resolver = createResolver({ dnsServers: [dns.server] });
    options = (root, extra = {}) => ({ config, root, resolver, env: { PATH: '/usr/bin:/bin' }, home: root, ...extra });
  });
  after(async () => {
    await dns.stop();
  });

  it('marks each production host of an INI inventory at its address, with the chain', async () => {
    const text = [
      '[web]',
      'web1 ansible_host=127.0.0.11',
      `web2 ansible_host=${NAMES.www}`,
      '',
      '[db]',
      'db1 ansible_host=3232235978',
      `db2 ansible_host=${NAMES.missing}`,
      '',
    ].join('\n');
    const root = workspace({ 'inventory/hosts.ini': text });
    const file = join(root, 'inventory/hosts.ini');
    const r = await fileFindings(file, text, options(root));
    assert.equal(r?.kind, 'inventory');
    assert.deepEqual(r.problems, []);
    const rows = r.findings.map((f) => [f.line, f.column, f.length, f.kind]);
    assert.deepEqual(rows, [
      [3, 19, NAMES.www.length, 'production'],
      [6, 18, 10, 'production'],
      [7, 18, NAMES.missing.length, 'unresolved'],
    ]);
    assert.match(
      r.findings[0].message,
      /^web2 is production \(192\.168\.1\.10 ∈ 192\.168\.1\.0\/24\): web2 → ansible_host www\.corp\.example \(inventory\/hosts\.ini:3\) → .*CNAME db\.corp\.example.* → 192\.168\.1\.10 ∈ 192\.168\.1\.0\/24 production/,
    );
    assert.match(r.findings[1].message, /3232235978.*192\.168\.1\.202 ∈ 192\.168\.1\.0\/24 production/);
    assert.match(
      r.findings[2].message,
      /^db2 cannot be resolved \(missing\.example\.test: NXDOMAIN\), so guarded commands that reach it are blocked: db2 → /,
    );
  });

  it('reads unsaved text, and marks a host_vars file at the line that sets the address', async () => {
    const root = workspace({
      'inv/hosts.yml': 'all:\n  hosts:\n    pi2:\n    lab1:\n      ansible_host: 127.0.0.2\n',
      'inv/host_vars/pi2.yml': '---\nansible_user: pi\nansible_host: 127.0.0.3\n',
    });
    const vars = join(root, 'inv/host_vars/pi2.yml');
    const saved = await fileFindings(vars, '---\nansible_user: pi\nansible_host: 127.0.0.3\n', options(root));
    assert.equal(saved?.kind, 'inventory-vars');
    assert.deepEqual(saved.findings, [], 'a sandbox address is not marked');

    const edited = `---\nansible_user: pi\nansible_host: ${NAMES.pi2}\n`;
    const r = await fileFindings(vars, edited, options(root));
    assert.deepEqual(
      r?.findings.map((f) => [f.line, f.column, f.kind]),
      [[3, 15, 'production']],
    );
    assert.match(r.findings[0].message, /pi2\.lan .*192\.168\.1\.202 ∈ 192\.168\.1\.0\/24 production/);

    // The inventory itself, with the host_vars edit still unsaved: pi2 is marked where it is named.
    const inv = join(root, 'inv/hosts.yml');
    const r2 = await fileFindings(
      inv,
      'all:\n  hosts:\n    pi2:\n    lab1:\n      ansible_host: 127.0.0.2\n',
      options(root, { overrides: new Map([[vars, edited]]) }),
    );
    assert.deepEqual(
      r2?.findings.map((f) => [f.line, f.column, f.length]),
      [[3, 5, 3]],
    );
  });

  it('marks kubeconfig servers and production context names; not a sandbox cluster', async () => {
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: corp',
      '    cluster:',
      `      server: https://${NAMES.db}:6443`,
      '  - name: office',
      '    cluster:',
      '      server: https://127.0.0.1:6445',
      '  - name: lab',
      '    cluster:',
      '      server: https://127.0.0.1:6550',
      'contexts:',
      '  - name: admin@corp',
      '    context: { cluster: corp, user: admin }',
      '  - name: corp-prod',
      '    context: { cluster: office, user: admin }',
      '  - name: k3d-lab',
      '    context: { cluster: lab, user: admin }',
      'current-context: k3d-lab',
      '',
    ].join('\n');
    const root = workspace({ 'kube/config': text });
    const r = await fileFindings(join(root, 'kube/config'), text, options(root));
    assert.equal(r?.kind, 'kubeconfig');
    assert.deepEqual(
      r.findings.map((f) => [f.line, f.column, f.kind]),
      [
        [6, 15, 'production'],
        [9, 15, 'production'],
      ],
    );
    assert.match(r.findings[0].message, /host \*\.corp\.example production|192\.168\.1\.10 ∈ 192\.168\.1\.0\/24/);
    assert.match(r.findings[1].message, /kube context corp-prod production/);
  });

  it('marks .tf backends and .tfvars addresses; malformed HCL is a problem at its line', async () => {
    const tf = 'terraform {\n  backend "gcs" {\n    bucket = "corp-tf"\n    prefix = "prod/dns"\n  }\n}\n';
    const tfvars = 'pve_url = "https://192.168.1.5:8006"\nlab_url = "https://127.0.0.1:8006"\n';
    const root = workspace({ 'infra/main.tf': tf, 'infra/terraform.tfvars': tfvars });
    const main = await fileFindings(join(root, 'infra/main.tf'), tf, options(root));
    assert.equal(main?.kind, 'tofu');
    assert.equal(main.findings.length, 1);
    assert.equal(main.findings[0].line, 2);
    assert.match(main.findings[0].message, /state backend gcs:\/\/corp-tf\/prod production/);
    const vars = await fileFindings(join(root, 'infra/terraform.tfvars'), tfvars, options(root));
    assert.deepEqual(
      vars?.findings.map((f) => [f.line, f.column, f.kind]),
      [[1, 11, 'production']],
    );
    const broken = await fileFindings(join(root, 'infra/main.tf'), 'terraform {\n  backend "gcs" {\n', options(root));
    assert.equal(broken?.findings.length, 0);
    assert.ok(broken && broken.problems.length > 0, 'a problem for the unclosed block');
    assert.ok(broken.problems[0].line >= 1);
  });

  it('without lookups (untrusted workspace) only literals and name rules count, and no DNS query is sent', async () => {
    const text = `[all]\na ansible_host=${NAMES.pi2}\nb ansible_host=192.168.1.7\nc ansible_host=x.corp.example\n`;
    const root = workspace({ 'hosts.ini': text });
    const before = dns.queryCount(NAMES.pi2);
    const r = await fileFindings(join(root, 'hosts.ini'), text, options(root, { lookups: false }));
    assert.deepEqual(
      r?.findings.map((f) => [f.line, f.kind]),
      [
        [3, 'production'],
        [4, 'production'],
      ],
    );
    assert.equal(dns.queryCount(NAMES.pi2), before, 'pi2.lan was not looked up');
  });

  it('tells guarded files from other files', () => {
    const kinds = {
      'inventories/prod/hosts': '[web]\nweb1\n',
      'hosts.ini': '[web]\nweb1\n',
      'php.ini': '[PHP]\nmemory_limit = 128M\n',
      'tox.ini': '[tox]\nenvlist = py3\n',
      'site.ini': '[web:children]\nfront\n',
      'inv.yml': 'all:\n  children:\n    web:\n      hosts:\n        web1:\n',
      'playbook.yml': '- hosts: all\n  tasks: []\n',
      'compose.yaml': 'services:\n  web:\n    image: nginx\n',
      'k8s.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n',
      'kubeconfig.yaml': 'apiVersion: v1\nkind: Config\nclusters:\n- name: a\ncontexts: []\n',
      'group_vars/all.yml': 'ntp: pool\n',
      'main.tf': '',
      'prod.tfvars': '',
      'infra-sandbox.yaml': 'version: 1\n',
    };
    const got = Object.fromEntries(Object.entries(kinds).map(([f, t]) => [f, guardFileKind(`/w/${f}`, t) ?? null]));
    assert.deepEqual(got, {
      'inventories/prod/hosts': 'inventory',
      'hosts.ini': 'inventory',
      'php.ini': null,
      'tox.ini': null,
      'site.ini': 'inventory',
      'inv.yml': 'inventory',
      'playbook.yml': null,
      'compose.yaml': null,
      'k8s.yaml': null,
      'kubeconfig.yaml': 'kubeconfig',
      'group_vars/all.yml': 'inventory-vars',
      'main.tf': 'tofu',
      'prod.tfvars': 'tofu',
      'infra-sandbox.yaml': null,
    });
  });

  it('says which sandbox or gate uses a file (its production findings become errors)', () => {
    const cfg: WorkspaceConfig = {
      version: 1,
      gates: {
        idempotence: [{ playbook: 'site.yml', inventory: 'inventories/staging' }],
        plan: [{ dir: 'infra/dns' }],
      },
    };
    assert.equal(usedBySandboxOrGate('/w/infra/dns/main.tf', '/w', cfg), 'the plan gate of infra/dns');
    assert.equal(usedBySandboxOrGate('/w/infra/dnsx/main.tf', '/w', cfg), undefined);
    assert.equal(
      usedBySandboxOrGate('/w/inventories/staging/hosts.ini', '/w', cfg),
      'the idempotence gate of site.yml',
    );
    assert.equal(usedBySandboxOrGate('/w/inventories/production/hosts.ini', '/w', cfg), undefined);
    assert.match(usedBySandboxOrGate('/w/.infra-sandbox/kube/lab.yaml', '/w', cfg) ?? '', /sandbox/);
  });
});
