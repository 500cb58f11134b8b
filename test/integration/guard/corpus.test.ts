// The bypass corpus for the production guard (SPEC §10): command lines in every spelling and every
// family, each run through the public entry point `guardCommand` — the real extractors, the real
// `ssh -G`, and a real dnsmasq on loopback — and held to its verdict and to the rule that decided.
//
// Nothing here runs the commands or connects anywhere: production-looking addresses are data only.
// Each case gets its own working folder and an empty home, and a minimal environment (PATH, HOME
// and what the case sets), so the machine's own ~/.kube/config, KUBECONFIG, DOCKER_HOST … never
// leak in. The files a case needs (inventories, ssh configs, kubeconfigs, .tf folders) are written
// by the case itself.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkspaceConfig } from '../../../src/core/config/types';
import { guardCommand } from '../../../src/core/guard/guard';
import type { Verdict } from '../../../src/core/guard/types';
import { GUARD_CONFIG, NAMES, startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq';
import { tempDir } from '../../helpers/tmp';

interface Case {
  name: string;
  argv: string[];
  /** Set on top of PATH and HOME. */
  env?: Record<string, string>;
  /** Path (relative to the case's working folder, or `~/…` for its home) → content. */
  files?: Record<string, string>;
  expect: 'block' | 'allow';
  /**
   * block: the rule of the first production target (the one the verdict's reason names).
   * allow: the rule of the first target, when given.
   */
  rule?: string | RegExp;
  /** block: the name of that production target. */
  target?: string;
}

// ---------------------------------------------------------------------------------------------
// The boundary: the shared one of the DNS helper, plus an old office LAN (so that the short form
// `192.168.1` — which is 192.168.0.1, not 192.168.1.0 — has a network of its own to land in) and the
// variables whose values are targets.

const OFFICE_LAN = '192.168.0.0/24';

const NET = '192.168.1.0/24 production';
const NET6 = '2001:db8:1::/64 production';
const OFFICE = `${OFFICE_LAN} production`;
const CORP = 'host *.corp.example production';
const KUBE_PROD = 'kube context corp-prod production';
const GCS_PROD = 'state backend gcs://corp-tf/prod production';
const NXDOMAIN = 'unresolved: NXDOMAIN (guard.onUnresolved: block)';
const SERVFAIL = 'unresolved: SERVFAIL (guard.onUnresolved: block)';
const REFUSED = 'unresolved: REFUSED (guard.onUnresolved: block)';
const LOOPBACK = '127.0.0.0/8 sandbox';
const LAB_NET = '192.168.64.0/24 sandbox';

// ---------------------------------------------------------------------------------------------
// Files the cases share (each case writes its own copy)

interface KubeContext {
  name: string;
  cluster: string;
  /** Omitted: the cluster is defined in another file. */
  server?: string;
}

function kubeconfig(contexts: KubeContext[], current?: string): string {
  const clusters = contexts.filter((c) => c.server);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...clusters.flatMap((c) => [`  - name: ${c.cluster}`, '    cluster:', `      server: ${c.server}`]),
    'contexts:',
    ...contexts.flatMap((c) => [
      `  - name: ${c.name}`,
      '    context:',
      `      cluster: ${c.cluster}`,
      '      user: me',
    ]),
    ...(current ? [`current-context: ${current}`] : []),
    'users:',
    '  - name: me',
    '    user:',
    '      token: not-a-real-token',
    '',
  ].join('\n');
}

const CORP_PROD = { name: 'corp-prod', cluster: 'corp', server: 'https://192.168.1.100:6443' };
const K3D_LAB = { name: 'k3d-lab', cluster: 'k3d-lab', server: 'https://127.0.0.1:6550' };

const SSH_CONFIG = [
  'Host prod-box',
  '  HostName db.corp.example',
  '  User deploy',
  '',
  'Host lab',
  '  HostName 127.0.0.1',
  '  Port 2222',
  '',
  'Host lab-via-bastion',
  '  HostName 127.0.0.1',
  '  ProxyJump bastion',
  '',
  'Host bastion',
  '  HostName 192.168.1.5',
  '',
  'Host *.short',
  '  HostName %h.corp.example',
  '',
  'Host lab-tunnel',
  '  HostName 127.0.0.1',
  '  LocalForward 15432 192.168.1.10:5432',
  '',
  'Host lab-cleared',
  '  HostName 127.0.0.1',
  '  LocalForward 15432 192.168.1.10:5432',
  '  ClearAllForwardings yes',
  '',
].join('\n');

const SITE_YML = '- hosts: all\n  gather_facts: false\n  tasks: []\n';

const MIXED_INI = [
  '[sandbox]',
  `app ansible_host=${NAMES.app}`,
  `node1 ansible_host=${NAMES.node1}`,
  '',
  '[prod]',
  `pi2 ansible_host=${NAMES.pi2}`,
  '',
].join('\n');

const PROD_YAML = [
  'all:',
  '  children:',
  '    prod:',
  '      hosts:',
  '        db01:',
  '          ansible_host: 3232235978', // YAML reads an integer: 192.168.1.202
  '          ansible_user: deploy',
  '',
].join('\n');

const CONTAINERS_INI = [
  '[containers]',
  'web1',
  'web2',
  '',
  '[containers:vars]',
  'ansible_connection=community.docker.docker',
  '',
].join('\n');

const GCS_BACKEND = (prefix: string) =>
  `terraform {\n  backend "gcs" {\n    bucket = "corp-tf"\n    prefix = "${prefix}"\n  }\n}\n`;

// ---------------------------------------------------------------------------------------------
// Production: every spelling, every family — each must be blocked, by the right rule.

const PRODUCTION: Case[] = [
  // Address spellings
  { name: 'decimal IPv4 (ssh)', argv: ['ssh', '3232235978'], expect: 'block', rule: NET, target: '3232235978' },
  {
    name: 'octal IPv4 (ssh user@)',
    argv: ['ssh', 'root@0300.0250.1.1'],
    expect: 'block',
    rule: NET,
    target: '0300.0250.1.1',
  },
  {
    name: 'hex IPv4 in a URL (curl)',
    argv: ['curl', '-sS', 'http://0xC0A801CA/health'],
    expect: 'block',
    rule: NET,
    target: 'http://0xC0A801CA/health',
  },
  {
    name: 'short IPv4 192.168.1 is 192.168.0.1 (ssh)',
    argv: ['ssh', '192.168.1'],
    expect: 'block',
    rule: OFFICE,
    target: '192.168.1',
  },
  {
    name: 'short IPv4 192.168.258 is 192.168.1.2 (psql -h)',
    argv: ['psql', '-h', '192.168.258', '-U', 'app', 'app'],
    expect: 'block',
    rule: NET,
    target: '192.168.258',
  },
  {
    name: 'IPv4-mapped IPv6, dotted (ssh)',
    argv: ['ssh', '::ffff:192.168.1.10'],
    expect: 'block',
    rule: NET,
    target: '::ffff:192.168.1.10',
  },
  {
    name: 'IPv4-mapped IPv6, hex (psql -h)',
    argv: ['psql', '-h', '::ffff:c0a8:10a', 'app'],
    expect: 'block',
    rule: NET,
    target: '::ffff:c0a8:10a',
  },
  {
    name: 'bracketed IPv6 with a port (curl)',
    argv: ['curl', 'http://[2001:db8:1::10]:8080/'],
    expect: 'block',
    rule: NET6,
    target: 'http://[2001:db8:1::10]:8080/',
  },
  {
    name: 'bracketed IPv6 destination (scp user@[v6]:path)',
    argv: ['scp', './dump.sql', 'deploy@[2001:db8:1::10]:/srv/'],
    expect: 'block',
    rule: NET6,
  },
  {
    name: 'IPv6 with a zone id (nc)',
    argv: ['nc', '-6', '2001:db8:1::10%eth0', '22'],
    expect: 'block',
    rule: NET6,
    target: '2001:db8:1::10%eth0',
  },
  {
    name: 'IPv6 with a url-encoded zone id (curl)',
    argv: ['curl', 'http://[2001:db8:1::10%25eth0]/'],
    expect: 'block',
    rule: NET6,
  },
  {
    name: 'trailing dot (ssh)',
    argv: ['ssh', `${NAMES.db}.`],
    expect: 'block',
    rule: CORP,
    target: `${NAMES.db}.`,
  },
  {
    name: 'upper case (psql -h)',
    argv: ['psql', '-h', NAMES.db.toUpperCase(), 'app'],
    expect: 'block',
    rule: CORP,
    target: NAMES.db.toUpperCase(),
  },
  {
    name: 'CNAME to a production name (ssh)',
    argv: ['ssh', NAMES.www],
    expect: 'block',
    rule: CORP,
    target: NAMES.www,
  },
  {
    name: 'CNAME chain ending at a production address (ssh)',
    argv: ['ssh', `deploy@${NAMES.alias}`],
    expect: 'block',
    rule: NET,
    target: NAMES.alias,
  },
  {
    name: 'split A records, one of them production (ssh)',
    argv: ['ssh', NAMES.split],
    expect: 'block',
    rule: NET,
    target: NAMES.split,
  },
  {
    name: 'IPv6-only name (ssh)',
    argv: ['ssh', NAMES.v6only],
    expect: 'block',
    rule: NET6,
    target: NAMES.v6only,
  },
  {
    name: 'production name with a sandbox address (psql -h)',
    argv: ['psql', '-h', NAMES.legacy, 'app'],
    expect: 'block',
    rule: CORP,
    target: NAMES.legacy,
  },

  // ssh
  {
    name: 'ssh user@host',
    argv: ['ssh', `deploy@${NAMES.pi2}`, 'uptime'],
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'ssh ssh://user@host:22',
    argv: ['ssh', `ssh://deploy@${NAMES.db}:22`],
    expect: 'block',
    rule: CORP,
    target: NAMES.db,
  },
  { name: 'ssh -p', argv: ['ssh', '-p', '2222', '192.168.1.5'], expect: 'block', rule: NET, target: '192.168.1.5' },
  {
    name: 'ssh -J jumping through production to a sandbox host',
    argv: ['ssh', '-J', `deploy@${NAMES.pi2}:22`, NAMES.app],
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'ssh -o ProxyJump= through production',
    argv: ['ssh', '-o', 'ProxyJump=192.168.1.5', 'deploy@127.0.0.1'],
    expect: 'block',
    rule: NET,
    target: '192.168.1.5',
  },
  {
    name: 'ssh -o HostName= sends a sandbox name to production',
    argv: ['ssh', '-o', 'HostName=192.168.1.202', NAMES.app],
    expect: 'block',
    rule: NET,
    target: NAMES.app,
  },
  {
    name: 'ssh -F config: an alias whose HostName is production',
    argv: ['ssh', '-F', 'ssh_config', 'prod-box'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'block',
    rule: CORP,
    target: 'prod-box',
  },
  {
    name: 'ssh -F config: a sandbox alias with a production ProxyJump',
    argv: ['ssh', '-F', 'ssh_config', 'lab-via-bastion'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'block',
    rule: NET,
    target: 'bastion',
  },
  {
    name: 'ssh -F config: a wildcard Host with %h in HostName',
    argv: ['ssh', '-F', 'ssh_config', 'db.short'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'block',
    rule: CORP,
    target: 'db.short',
  },
  {
    name: 'ssh -F config: a sandbox alias with a LocalForward to production',
    argv: ['ssh', '-F', 'ssh_config', 'lab-tunnel'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'block',
    rule: NET,
    target: '192.168.1.10:5432',
  },
  {
    name: 'ssh -o RemoteForward to production (connected from here)',
    argv: ['ssh', '-o', 'RemoteForward 9000 192.168.1.11:80', NAMES.app],
    expect: 'block',
    rule: NET,
    target: '192.168.1.11:80',
  },
  {
    name: 'ssh -L from a local socket to production',
    argv: ['ssh', '-L', '/tmp/db.sock:192.168.1.10:5432', NAMES.app],
    expect: 'block',
    rule: NET,
    target: '/tmp/db.sock:192.168.1.10:5432',
  },
  {
    name: 'ssh -W to production through a sandbox host',
    argv: ['ssh', '-W', '192.168.1.10:22', NAMES.app],
    expect: 'block',
    rule: NET,
    target: '192.168.1.10:22',
  },
  {
    name: 'ssh -o ProxyCommand through production',
    argv: ['ssh', '-o', 'ProxyCommand=nc 192.168.1.5 22', NAMES.app],
    expect: 'block',
    rule: NET,
    target: '192.168.1.5',
  },

  // scp, sftp, rsync
  {
    name: 'scp host:path',
    argv: ['scp', 'backup.tar.gz', `deploy@${NAMES.pi2}:/srv/backups/`],
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'scp -P -F alias:path',
    argv: ['scp', '-P', '2222', '-F', 'ssh_config', './app.conf', 'prod-box:/etc/app/'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'block',
    rule: CORP,
    target: 'prod-box',
  },
  { name: 'sftp user@host', argv: ['sftp', `deploy@${NAMES.db}`], expect: 'block', rule: CORP, target: NAMES.db },
  { name: 'sftp -P', argv: ['sftp', '-P', '2222', '192.168.1.5'], expect: 'block', rule: NET, target: '192.168.1.5' },
  {
    name: 'rsync host:path',
    argv: ['rsync', '-av', './dist/', `deploy@${NAMES.pi2}:/srv/app/`],
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'rsync rsync://',
    argv: ['rsync', '-a', 'rsync://192.168.1.10/backups/', './restore/'],
    expect: 'block',
    rule: NET,
    target: '192.168.1.10',
  },
  {
    name: "rsync -e 'ssh -p 2222' to a decimal address",
    argv: ['rsync', '-a', '-e', 'ssh -p 2222', './x', '3232235978:/tmp/'],
    expect: 'block',
    rule: NET,
    target: '3232235978',
  },

  // Ansible
  {
    name: 'ansible-playbook -i INI file',
    argv: ['ansible-playbook', '-i', 'hosts.ini', 'site.yml'],
    files: { 'hosts.ini': MIXED_INI, 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: 'pi2',
  },
  {
    name: 'ansible-playbook -i YAML file (ansible_host as a decimal integer)',
    argv: ['ansible-playbook', '-i', 'prod.yml', 'site.yml'],
    files: { 'prod.yml': PROD_YAML, 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: 'db01',
  },
  {
    name: 'ansible-playbook -i directory with host_vars and group_vars',
    argv: ['ansible-playbook', '-i', 'inventory/', 'site.yml'],
    files: {
      'inventory/hosts': '[k3s_server]\nnode-a\n\n[k3s_agents]\nnode-b\n',
      'inventory/group_vars/all.yml': 'ansible_user: pi\n',
      'inventory/group_vars/k3s_agents.yml': `ansible_host: ${NAMES.dual}\n`,
      'inventory/host_vars/node-a.yml': `---\nansible_host: ${NAMES.alias}\n`,
      'site.yml': SITE_YML,
    },
    expect: 'block',
    rule: NET,
    target: 'node-a',
  },
  {
    name: 'ansible -i inline host list',
    argv: ['ansible', '-i', `${NAMES.db},`, 'all', '-m', 'ping'],
    expect: 'block',
    rule: CORP,
    target: NAMES.db,
  },
  {
    name: 'ansible-playbook: a range web[01:03] with one production member',
    argv: ['ansible-playbook', '-i', 'web/hosts.ini', 'site.yml'],
    files: {
      'web/hosts.ini': '[web]\nweb[01:03]\n',
      'web/host_vars/web01.yml': 'ansible_host: 127.0.0.11\n',
      'web/host_vars/web02.yml': 'ansible_host: 192.168.1.12\n',
      'web/host_vars/web03.yml': 'ansible_host: 127.0.0.13\n',
      'site.yml': SITE_YML,
    },
    expect: 'block',
    rule: NET,
    target: 'web02',
  },
  {
    name: 'ansible-playbook --limit selecting a production host',
    argv: ['ansible-playbook', '-i', 'hosts.ini', '--limit', 'pi2', 'site.yml'],
    files: { 'hosts.ini': MIXED_INI, 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: 'pi2',
  },
  {
    name: 'ansible-playbook -e ansible_host= over a sandbox inventory',
    argv: ['ansible-playbook', '-i', `${NAMES.app},`, '-e', 'ansible_host=192.168.1.202', 'site.yml'],
    files: { 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: NAMES.app,
  },
  {
    name: 'ansible with $ANSIBLE_INVENTORY',
    argv: ['ansible', 'all', '-m', 'ping'],
    env: { ANSIBLE_INVENTORY: 'prod.yml' },
    files: { 'prod.yml': PROD_YAML },
    expect: 'block',
    rule: NET,
    target: 'db01',
  },
  {
    name: 'ansible-playbook: docker connection with DOCKER_HOST=tcp://production',
    argv: ['ansible-playbook', '-i', 'containers.ini', 'site.yml'],
    env: { DOCKER_HOST: 'tcp://192.168.1.50:2376' },
    files: { 'containers.ini': CONTAINERS_INI, 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: 'tcp://192.168.1.50:2376',
  },
  {
    name: 'ansible-playbook: docker_api connection with ansible_docker_docker_host',
    argv: ['ansible-playbook', '-i', 'api.ini', 'site.yml'],
    files: {
      'api.ini':
        '[containers]\nweb1 ansible_connection=community.docker.docker_api ansible_docker_docker_host=tcp://192.168.1.50:2376\n',
      'site.yml': SITE_YML,
    },
    expect: 'block',
    rule: NET,
    target: 'tcp://192.168.1.50:2376',
  },
  {
    name: 'ansible-playbook --ssh-common-args with a ProxyJump through production',
    argv: ['ansible-playbook', '-i', '127.0.0.2,', '--ssh-common-args=-o ProxyJump=admin@192.168.1.5', 'site.yml'],
    files: { 'site.yml': SITE_YML },
    expect: 'block',
    rule: NET,
    target: '127.0.0.2',
  },
  {
    name: 'ansible-playbook: ansible_ssh_common_args -J in the inventory',
    argv: ['ansible-playbook', '-i', 'jump.ini', 'site.yml'],
    files: {
      'jump.ini': `[lab]\nlab1 ansible_host=127.0.0.3 ansible_ssh_common_args='-J ${NAMES.pi2}'\n`,
      'site.yml': SITE_YML,
    },
    expect: 'block',
    rule: NET,
    target: 'lab1',
  },

  // kubectl, helm
  {
    name: 'kubectl --kubeconfig with a production current-context',
    argv: ['kubectl', '--kubeconfig', 'prod.yaml', 'get', 'pods'],
    files: { 'prod.yaml': kubeconfig([CORP_PROD], 'corp-prod') },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },
  {
    name: 'KUBECONFIG with two files: the second sets the current context',
    argv: ['kubectl', 'get', 'nodes'],
    env: { KUBECONFIG: 'lab.yaml:prod.yaml' },
    files: { 'lab.yaml': kubeconfig([K3D_LAB]), 'prod.yaml': kubeconfig([CORP_PROD], 'corp-prod') },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },
  {
    name: 'KUBECONFIG with two files: current context from the first, cluster from the second',
    argv: ['kubectl', 'apply', '-f', 'deploy.yaml'],
    env: { KUBECONFIG: 'kube/edge.yaml:kube/clusters.yaml' },
    files: {
      'kube/edge.yaml': kubeconfig([{ name: 'edge', cluster: 'edge' }], 'edge'),
      'kube/clusters.yaml': kubeconfig([{ name: 'other', cluster: 'edge', server: `https://${NAMES.pi2}:6443` }]),
    },
    expect: 'block',
    rule: NET,
    target: 'edge',
  },
  {
    name: 'kubectl --context corp-prod over a sandbox current-context',
    argv: ['kubectl', '--kubeconfig', 'both.yaml', '--context', 'corp-prod', 'get', 'pods'],
    files: { 'both.yaml': kubeconfig([K3D_LAB, CORP_PROD], 'k3d-lab') },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },
  {
    name: 'kubectl: an innocent current-context whose server is production (~/.kube/config)',
    argv: ['kubectl', 'get', 'nodes'],
    files: {
      '~/.kube/config': kubeconfig(
        [{ name: 'homelab', cluster: 'homelab', server: 'https://192.168.1.202:6443' }],
        'homelab',
      ),
    },
    expect: 'block',
    rule: NET,
    target: 'homelab',
  },
  {
    name: 'kubectl -s glued to its value, over a sandbox current-context',
    argv: ['kubectl', '-shttps://192.168.1.100:6443', 'get', 'pods'],
    files: { '~/.kube/config': kubeconfig([K3D_LAB], 'k3d-lab') },
    expect: 'block',
    rule: NET,
    target: 'k3d-lab',
  },
  {
    name: 'helm with $HELM_KUBECONTEXT',
    argv: ['helm', 'list'],
    env: { HELM_KUBECONTEXT: 'corp-prod', KUBECONFIG: 'both.yaml' },
    files: { 'both.yaml': kubeconfig([K3D_LAB, CORP_PROD], 'k3d-lab') },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },
  {
    name: 'helm --kube-context corp-prod',
    argv: ['helm', '--kube-context', 'corp-prod', 'upgrade', '--install', 'app', './chart'],
    env: { KUBECONFIG: 'both.yaml' },
    files: { 'both.yaml': kubeconfig([K3D_LAB, CORP_PROD], 'k3d-lab') },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },

  // tofu, terraform
  {
    name: 'tofu plan: gcs backend under the production prefix',
    argv: ['tofu', 'plan'],
    files: { 'main.tf': GCS_BACKEND('prod/network') },
    expect: 'block',
    rule: GCS_PROD,
    target: 'backend "gcs"',
  },
  {
    name: 'tofu init -backend-config=prefix= completing a partial backend',
    argv: ['tofu', 'init', '-backend-config=prefix=prod/dns'],
    files: { 'main.tf': 'terraform {\n  backend "gcs" {\n    bucket = "corp-tf"\n  }\n}\n' },
    expect: 'block',
    rule: GCS_PROD,
    target: 'backend "gcs"',
  },
  {
    name: 'terraform plan: .terraform/terraform.tfstate initialised on the production backend',
    argv: ['terraform', 'plan'],
    files: {
      'main.tf': GCS_BACKEND('sandbox/core'),
      '.terraform/terraform.tfstate': JSON.stringify(
        { version: 3, backend: { type: 'gcs', config: { bucket: 'corp-tf', prefix: 'prod/core' }, hash: 1 } },
        null,
        2,
      ),
    },
    expect: 'block',
    rule: GCS_PROD,
    target: 'initialised backend "gcs"',
  },
  {
    name: 'tofu -chdir: a provider endpoint in a .tf file',
    argv: ['tofu', '-chdir=infra/pve', 'apply'],
    files: {
      'infra/pve/main.tf':
        'provider "proxmox" {\n  pm_api_url = "https://192.168.1.2:8006/api2/json"\n}\n\nresource "proxmox_vm_qemu" "vm" {\n  name = "vm"\n}\n',
    },
    expect: 'block',
    rule: NET,
    target: 'https://192.168.1.2:8006/api2/json',
  },
  {
    name: 'tofu plan: an address in terraform.tfvars',
    argv: ['tofu', 'plan'],
    files: {
      'main.tf': 'variable "pve_host" {\n  type = string\n}\n',
      'terraform.tfvars': `pve_host = "${NAMES.pi2}"\n`,
    },
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'tofu plan: an address in $TF_VAR_…',
    argv: ['tofu', 'plan'],
    env: { TF_VAR_pve_host: NAMES.pi2 },
    files: { 'main.tf': 'variable "pve_host" {\n  type = string\n}\n' },
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'tofu init: -backend-config from $TF_CLI_ARGS_init',
    argv: ['tofu', 'init'],
    env: { TF_CLI_ARGS_init: '-backend-config=prefix=prod/dns' },
    files: { 'main.tf': 'terraform {\n  backend "gcs" {\n    bucket = "corp-tf"\n  }\n}\n' },
    expect: 'block',
    rule: GCS_PROD,
    target: 'backend "gcs"',
  },
  {
    name: 'tofu plan: a kubernetes provider on the production kube context',
    argv: ['tofu', 'plan'],
    files: {
      'main.tf': 'provider "kubernetes" {\n  config_path    = "kube.yaml"\n  config_context = "corp-prod"\n}\n',
      'kube.yaml': kubeconfig([K3D_LAB, CORP_PROD], 'k3d-lab'),
    },
    expect: 'block',
    rule: KUBE_PROD,
    target: 'corp-prod',
  },

  // PostgreSQL
  {
    name: 'psql -h',
    argv: ['psql', '-h', NAMES.pi2, '-U', 'app', 'app'],
    expect: 'block',
    rule: NET,
    target: NAMES.pi2,
  },
  {
    name: 'psql with $PGHOST',
    argv: ['psql', '-U', 'app', 'app'],
    env: { PGHOST: NAMES.db },
    expect: 'block',
    rule: CORP,
  },
  {
    name: 'psql postgresql:// URI',
    argv: ['psql', 'postgresql://app:s3cret@192.168.1.10:5432/app'],
    expect: 'block',
    rule: NET,
  },
  {
    name: 'pg_dump host= conninfo',
    argv: ['pg_dump', `host=${NAMES.db} port=5432 dbname=app`, '-f', 'dump.sql'],
    expect: 'block',
    rule: CORP,
  },
  {
    name: 'psql URI with ?host= in the query string',
    argv: ['psql', 'postgresql:///app?host=192.168.1.10'],
    expect: 'block',
    rule: NET,
  },
  {
    name: 'psql -h a sandbox name with $PGHOSTADDR in production',
    argv: ['psql', '-h', NAMES.app, 'app'],
    env: { PGHOSTADDR: '192.168.1.10' },
    expect: 'block',
    rule: NET,
    target: NAMES.app,
  },
  {
    name: 'psql service= from ~/.pg_service.conf',
    argv: ['psql', 'service=prod'],
    files: { '~/.pg_service.conf': `[prod]\nhost=${NAMES.db}\ndbname=app\n` },
    expect: 'block',
    rule: CORP,
    target: NAMES.db,
  },

  // Vault, OpenBao
  {
    name: 'vault -address=',
    argv: ['vault', 'kv', 'get', '-address=https://192.168.1.40:8200', 'secret/app'],
    expect: 'block',
    rule: NET,
    target: 'https://192.168.1.40:8200',
  },
  {
    name: 'vault with $VAULT_ADDR',
    argv: ['vault', 'status'],
    env: { VAULT_ADDR: 'https://vault.corp.example:8200' },
    expect: 'block',
    rule: CORP,
  },
  {
    name: 'bao with $BAO_ADDR',
    argv: ['bao', 'kv', 'list', 'secret/'],
    env: { BAO_ADDR: `https://${NAMES.pi2}:8200` },
    expect: 'block',
    rule: NET,
  },

  // Docker
  {
    name: 'docker -H ssh://',
    argv: ['docker', '-H', `ssh://deploy@${NAMES.pi2}`, 'ps'],
    expect: 'block',
    rule: NET,
    target: `ssh://deploy@${NAMES.pi2}`,
  },
  {
    name: 'docker -H glued to its value',
    argv: ['docker', `-Hssh://deploy@${NAMES.pi2}`, 'ps'],
    expect: 'block',
    rule: NET,
    target: `ssh://deploy@${NAMES.pi2}`,
  },
  {
    name: 'podman --url ssh://',
    argv: ['podman', '--url', 'ssh://root@192.168.1.50/run/podman/podman.sock', 'ps'],
    expect: 'block',
    rule: NET,
  },
  {
    name: 'docker with DOCKER_HOST=tcp://',
    argv: ['docker', 'compose', 'up', '-d'],
    env: { DOCKER_HOST: 'tcp://192.168.1.50:2376' },
    expect: 'block',
    rule: NET,
    target: 'tcp://192.168.1.50:2376',
  },

  // Anything else
  {
    name: 'curl https://name/',
    argv: ['curl', `https://${NAMES.db}/`],
    expect: 'block',
    rule: CORP,
    target: `https://${NAMES.db}/`,
  },
  { name: 'nc address port', argv: ['nc', '192.168.1.10', '22'], expect: 'block', rule: NET, target: '192.168.1.10' },
  { name: 'nc bare production name', argv: ['nc', NAMES.db, '22'], expect: 'block', rule: CORP, target: NAMES.db },
  {
    name: 'mysql -h with a glued production name',
    argv: ['mysql', `-h${NAMES.db}`, 'app'],
    expect: 'block',
    rule: CORP,
    target: NAMES.db,
  },
  {
    name: 'wget bare name/path',
    argv: ['wget', `${NAMES.db}/dump.sql`],
    expect: 'block',
    rule: CORP,
    target: NAMES.db,
  },
  {
    name: 'host:port argument',
    argv: ['kafka-console-producer', '--bootstrap-server', `${NAMES.pi2}:9092`, '--topic', 'events'],
    expect: 'block',
    rule: NET,
    target: `${NAMES.pi2}:9092`,
  },
  {
    name: 'address:port argument',
    argv: ['grpcurl', '192.168.1.10:443', 'list'],
    expect: 'block',
    rule: NET,
    target: '192.168.1.10:443',
  },

  // production.env variables, whatever the command
  {
    name: 'production.env: $PGHOST under a script',
    argv: ['./deploy.sh'],
    env: { PGHOST: '192.168.1.10' },
    expect: 'block',
    rule: NET,
    target: '$PGHOST',
  },
  {
    name: 'production.env: $DATABASE_URL under node',
    argv: ['node', 'migrate.js'],
    env: { DATABASE_URL: `postgres://app@${NAMES.db}/app` },
    expect: 'block',
    rule: CORP,
    target: '$DATABASE_URL',
  },

  // DNS failures, under the default guard.onUnresolved: block
  {
    name: 'NXDOMAIN (ssh)',
    argv: ['ssh', `deploy@${NAMES.missing}`],
    expect: 'block',
    rule: NXDOMAIN,
    target: NAMES.missing,
  },
  {
    name: 'SERVFAIL (curl)',
    argv: ['curl', `https://${NAMES.servfail}/`],
    expect: 'block',
    rule: SERVFAIL,
    target: `https://${NAMES.servfail}/`,
  },
  {
    name: 'REFUSED (psql -h)',
    argv: ['psql', '-h', NAMES.refused],
    expect: 'block',
    rule: REFUSED,
    target: NAMES.refused,
  },
];

// ---------------------------------------------------------------------------------------------
// Sandbox: the same families aimed at the sandbox — each must be allowed.

const SANDBOX: Case[] = [
  { name: 'ssh loopback', argv: ['ssh', '127.0.0.1', 'uptime'], expect: 'allow', rule: LOOPBACK },
  { name: 'ssh user@sandbox name', argv: ['ssh', `deploy@${NAMES.app}`], expect: 'allow', rule: LOOPBACK },
  { name: 'ssh -p to ::1', argv: ['ssh', '-p', '2222', '::1'], expect: 'allow' },
  {
    name: 'ssh -F config: a sandbox alias',
    argv: ['ssh', '-F', 'ssh_config', 'lab'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'allow',
    rule: LOOPBACK,
  },
  { name: 'ssh -G only prints the config', argv: ['ssh', '-G', NAMES.pi2], expect: 'allow' },
  { name: 'ssh to loopback spelled 0x7f.1', argv: ['ssh', '0x7f.1'], expect: 'allow', rule: LOOPBACK },
  {
    name: "ssh -L to the remote's own localhost",
    argv: ['ssh', '-L', '5432:localhost:5432', NAMES.app],
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'ssh -F config: forwards cleared by ClearAllForwardings',
    argv: ['ssh', '-F', 'ssh_config', 'lab-cleared'],
    files: { ssh_config: SSH_CONFIG },
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'scp to the lab network',
    argv: ['scp', './site.tar', `${NAMES.node1}:/tmp/`],
    expect: 'allow',
    rule: LAB_NET,
  },
  { name: 'sftp to a dual-stack sandbox name', argv: ['sftp', NAMES.dual], expect: 'allow', rule: LOOPBACK },
  {
    name: 'rsync to the lab network',
    argv: ['rsync', '-a', './x', 'deploy@192.168.64.11:/srv/'],
    expect: 'allow',
    rule: LAB_NET,
  },
  { name: 'rsync local to local', argv: ['rsync', '-a', './a/', './b/'], expect: 'allow' },
  {
    name: 'ansible-playbook -i a sandbox inventory',
    argv: ['ansible-playbook', '-i', 'sandbox.ini', 'site.yml'],
    files: {
      'sandbox.ini': `[lab]\napp ansible_host=${NAMES.app}\nnode1 ansible_host=${NAMES.node1}\n`,
      'site.yml': SITE_YML,
    },
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'ansible-playbook -i 127.0.0.1, -c local',
    argv: ['ansible-playbook', '-i', '127.0.0.1,', '-c', 'local', 'site.yml'],
    files: { 'site.yml': SITE_YML },
    expect: 'allow',
  },
  {
    name: 'ansible-playbook -i an inline list of sandbox names',
    argv: ['ansible-playbook', '-i', `${NAMES.node1},${NAMES.dual},`, 'site.yml'],
    files: { 'site.yml': SITE_YML },
    expect: 'allow',
    rule: LAB_NET,
  },
  {
    name: 'ansible-playbook --limit excluding the production group (by group)',
    argv: ['ansible-playbook', '-i', 'hosts.ini', '--limit', 'sandbox', 'site.yml'],
    files: { 'hosts.ini': MIXED_INI, 'site.yml': SITE_YML },
    expect: 'allow',
  },
  {
    name: "ansible-playbook --limit 'sandbox:&prod' selects no host",
    argv: ['ansible-playbook', '-i', 'hosts.ini', '--limit', 'sandbox:&prod', 'site.yml'],
    files: { 'hosts.ini': MIXED_INI, 'site.yml': SITE_YML },
    expect: 'allow',
  },
  {
    name: "ansible-playbook --limit '!prod'",
    argv: ['ansible-playbook', '-i', 'hosts.ini', '--limit', '!prod', 'site.yml'],
    files: { 'hosts.ini': MIXED_INI, 'site.yml': SITE_YML },
    expect: 'allow',
  },
  {
    name: 'ansible-playbook: docker connection to the local engine',
    argv: ['ansible-playbook', '-i', 'containers.ini', 'site.yml'],
    files: { 'containers.ini': CONTAINERS_INI, 'site.yml': SITE_YML },
    expect: 'allow',
  },
  {
    name: 'kubectl --kubeconfig for a k3d sandbox on 127.0.0.1',
    argv: ['kubectl', '--kubeconfig', 'k3d.yaml', 'get', 'pods'],
    files: { 'k3d.yaml': kubeconfig([K3D_LAB], 'k3d-lab') },
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'helm --kube-context k3d-lab in a file that also holds corp-prod',
    argv: ['helm', '--kube-context', 'k3d-lab', 'list'],
    env: { KUBECONFIG: 'both.yaml' },
    files: { 'both.yaml': kubeconfig([CORP_PROD, K3D_LAB], 'corp-prod') },
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'kubectl config use-context reaches no cluster',
    argv: ['kubectl', 'config', 'use-context', 'corp-prod'],
    env: { KUBECONFIG: 'both.yaml' },
    files: { 'both.yaml': kubeconfig([CORP_PROD, K3D_LAB], 'corp-prod') },
    expect: 'allow',
  },
  {
    name: 'tofu plan: local backend in a sandbox folder',
    argv: ['tofu', 'plan'],
    files: {
      'main.tf':
        'terraform {\n  backend "local" {\n    path = "state/sandbox.tfstate"\n  }\n}\n\nprovider "docker" {\n  host = "unix:///var/run/docker.sock"\n}\n',
    },
    expect: 'allow',
  },
  {
    name: 'tofu -chdir: sandbox prefix and a loopback provider endpoint',
    argv: ['tofu', '-chdir=infra/lab', 'apply'],
    files: {
      'infra/lab/main.tf': `${GCS_BACKEND('sandbox/lab')}\nprovider "proxmox" {\n  pm_api_url = "https://127.0.0.1:8006/api2/json"\n}\n`,
    },
    expect: 'allow',
  },
  {
    name: 'tofu fmt in a production folder touches nothing',
    argv: ['tofu', 'fmt'],
    files: { 'main.tf': GCS_BACKEND('prod/network') },
    expect: 'allow',
  },
  { name: 'psql -h loopback', argv: ['psql', '-h', '127.0.0.1', '-U', 'app', 'app'], expect: 'allow', rule: LOOPBACK },
  {
    name: 'psql over a unix socket ($PGHOST=/var/run/postgresql)',
    argv: ['psql', '-U', 'app'],
    env: { PGHOST: '/var/run/postgresql' },
    expect: 'allow',
  },
  {
    name: 'pg_dump postgresql:// to a lab node',
    argv: ['pg_dump', `postgresql://app@${NAMES.node1}/app`],
    expect: 'allow',
    rule: LAB_NET,
  },
  {
    name: 'vault with $VAULT_ADDR on loopback',
    argv: ['vault', 'status'],
    env: { VAULT_ADDR: 'http://127.0.0.1:8200' },
    expect: 'allow',
    rule: LOOPBACK,
  },
  { name: 'docker on the local socket', argv: ['docker', 'ps'], expect: 'allow' },
  { name: 'docker -H=unix://', argv: ['docker', '-H=unix:///var/run/docker.sock', 'ps'], expect: 'allow' },
  {
    name: 'kubectl -nkube-system config view reaches no cluster',
    argv: ['kubectl', '-nkube-system', 'config', 'view'],
    files: { '~/.kube/config': kubeconfig([CORP_PROD], 'corp-prod') },
    expect: 'allow',
  },
  {
    name: 'docker -H tcp://127.0.0.1',
    argv: ['docker', '-H', 'tcp://127.0.0.1:2375', 'ps'],
    expect: 'allow',
    rule: LOOPBACK,
  },
  { name: 'curl a sandbox name', argv: ['curl', `http://${NAMES.app}:8080/`], expect: 'allow', rule: LOOPBACK },
  {
    name: 'a file name and a version are not hosts',
    argv: ['tar', '-czf', 'backup.tar.gz', 'roles/'],
    expect: 'allow',
  },
  {
    name: 'ansible-playbook --ssh-common-args with a sandbox ProxyJump',
    argv: ['ansible-playbook', '-i', '127.0.0.2,', '--ssh-common-args=-J 127.0.0.9', 'site.yml'],
    files: { 'site.yml': SITE_YML },
    expect: 'allow',
    rule: LOOPBACK,
  },
  {
    name: 'curl a sandbox IPv6 address',
    argv: ['curl', 'http://[fd00:64::21]/'],
    expect: 'allow',
    rule: 'fd00:64::/64 sandbox',
  },
  { name: 'nc ::1', argv: ['nc', '::1', '22'], expect: 'allow' },
  {
    name: 'production.env variable pointing at the sandbox',
    argv: ['make', 'test'],
    env: { PGHOST: '127.0.0.1' },
    expect: 'allow',
    rule: LOOPBACK,
  },
];

// ---------------------------------------------------------------------------------------------

interface Outcome {
  expect: Case['expect'];
  got: Verdict['verdict'] | 'error';
}

describe('guard bypass corpus (guardCommand, real ssh -G, real dnsmasq)', () => {
  let dns: Dnsmasq;
  let config: WorkspaceConfig;
  const outcomes: Outcome[] = [];

  before(async () => {
    dns = await startDnsmasq();
    config = {
      version: 1,
      production: {
        ...GUARD_CONFIG.production,
        networks: [...GUARD_CONFIG.production.networks, OFFICE_LAN],
        env: ['VAULT_ADDR', 'PGHOST', 'DATABASE_URL'],
      },
      sandbox: { networks: [...GUARD_CONFIG.sandbox.networks] },
      guard: { dnsServers: [dns.server] },
    };
  });
  after(async () => {
    await dns?.stop();
  });

  const run = async (c: Case) => {
    const cwd = tempDir('corpus-case');
    const home = tempDir('corpus-home');
    for (const [path, content] of Object.entries(c.files ?? {})) {
      const file = path.startsWith('~/') ? join(home, path.slice(2)) : join(cwd, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...c.env };
    return guardCommand(c.argv, { cwd, env, home, config, inventoryParser: 'builtin' });
  };

  for (const c of [...PRODUCTION, ...SANDBOX]) {
    it(`${c.expect} · ${c.name}: ${c.argv.join(' ')}`, async () => {
      const outcome: Outcome = { expect: c.expect, got: 'error' };
      outcomes.push(outcome);
      const { verdict, problems } = await run(c);
      outcome.got = verdict.verdict;
      const explain = JSON.stringify(
        { reason: verdict.reason, targets: verdict.targets, notes: verdict.notes },
        null,
        2,
      );

      assert.deepEqual(problems, [], "the case's files must be readable (else the CLI would exit 2)");
      assert.equal(verdict.verdict, c.expect, explain);
      if (c.expect === 'block') {
        const blocking = verdict.targets.find((t) => t.production);
        assert.ok(blocking, explain);
        if (c.rule !== undefined) matches(blocking.rule, c.rule, explain);
        if (c.target !== undefined) assert.equal(blocking.name, c.target, explain);
      } else if (c.rule !== undefined) {
        matches(verdict.targets[0]?.rule ?? null, c.rule, explain);
      }
    });
  }

  it('summary: no false blocks, no false allows', () => {
    const production = outcomes.filter((o) => o.expect === 'block');
    const sandbox = outcomes.filter((o) => o.expect === 'allow');
    const blocked = production.filter((o) => o.got === 'block').length;
    const allowed = sandbox.filter((o) => o.got === 'allow').length;
    const falseBlocks = sandbox.length - allowed;
    const falseAllows = production.length - blocked;
    console.log(
      `guard corpus: ${blocked} blocked of ${production.length} production cases, ` +
        `${allowed} allowed of ${sandbox.length} sandbox cases; ` +
        `false blocks: ${falseBlocks}, false allows: ${falseAllows}`,
    );
    assert.ok(production.length >= 40 && sandbox.length >= 20, 'the corpus is at least 40 + 20 cases');
    assert.equal(falseBlocks, 0);
    assert.equal(falseAllows, 0);
  });
});

function matches(actual: string | null, expected: string | RegExp, explain: string): void {
  if (typeof expected === 'string') assert.equal(actual, expected, explain);
  else assert.match(actual ?? '', expected, explain);
}
