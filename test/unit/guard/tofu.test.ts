import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { extractTofu, stateBackendUrl, tfEndpoints } from '../../../src/core/guard/families/tofu';
import type { ExtractContext, Target } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

const fixtures = resolve(__dirname, '../../fixtures/tofu');

function ctx(env: NodeJS.ProcessEnv = {}, cwd = fixtures): ExtractContext {
  return { cwd, env, home: '/home/nobody', inventoryParser: 'builtin' };
}

const backends = (targets: Target[]) => targets.filter((t) => t.kind === 'state-backend').map((t) => t.stateBackend);
const hosts = (targets: Target[]) => targets.filter((t) => t.kind !== 'state-backend').map((t) => t.host);

describe('tofu/terraform extractor', () => {
  it('finds the gcs backend with its place, and the provider, variable and tfvars endpoints', async () => {
    const e = await extractTofu(['tofu', '-chdir=prod-gcs', 'plan'], ctx());
    assert.deepEqual(e.problems, []);
    const main = join(fixtures, 'prod-gcs', 'main.tf');
    const backend = e.targets.find((t) => t.kind === 'state-backend')!;
    assert.equal(backend.stateBackend, 'gcs://corp-tf/prod');
    assert.deepEqual(backend.source, { kind: 'file', file: main, line: 3, column: 3 });
    assert.equal(backend.chain[0], 'backend "gcs" (prod-gcs/main.tf:3)');
    assert.deepEqual(hosts(e.targets), [
      '192.168.1.10',
      'pve.corp.example',
      '192.168.1.20',
      'db01.corp.example',
      '10.0.5.1',
      '10.0.5.2',
    ]);
    const pg = e.targets.find((t) => t.host === '192.168.1.10')!;
    assert.deepEqual(pg.source, { kind: 'file', file: main, line: 11, column: 14 });
    assert.deepEqual(pg.chain, ['provider "postgresql" host = "192.168.1.10" (prod-gcs/main.tf:11)']);
    const tfvars = e.targets.find((t) => t.host === 'db01.corp.example')!;
    assert.equal(tfvars.chain[0], 'tfvars db_host = "db01.corp.example" (prod-gcs/terraform.tfvars:1)');
  });

  it('leaves resources, outputs and non-endpoint strings alone', async () => {
    const e = await extractTofu(['terraform', '-chdir=prod-gcs', 'apply'], ctx());
    const all = e.targets.map((t) => t.host);
    for (const absent of ['10.99.99.99', 'ignored.example.test', 'europe-west1', '1.2.3'])
      assert.ok(!all.includes(absent), absent);
  });

  it('without -chdir, the working folder is the cwd', async () => {
    const e = await extractTofu(['tofu', 'plan'], ctx({}, join(fixtures, 'prod-gcs')));
    assert.deepEqual(backends(e.targets), ['gcs://corp-tf/prod']);
  });

  it('-backend-config FILE and KEY=VALUE complete a partial backend', async () => {
    const withFile = await extractTofu(['tofu', '-chdir=s3-partial', 'init', '-backend-config=prod.s3.hcl'], ctx());
    assert.deepEqual(withFile.problems, []);
    assert.deepEqual(backends(withFile.targets), ['s3://corp-state/prod/network.tfstate']);
    assert.deepEqual(hosts(withFile.targets), ['minio.corp.example']);
    const withPairs = await extractTofu(
      ['tofu', '-chdir=s3-partial', 'init', '-backend-config', 'bucket=lab-state', '-backend-config=key=lab/x.tfstate'],
      ctx(),
    );
    const t = withPairs.targets.find((x) => x.kind === 'state-backend')!;
    assert.equal(t.stateBackend, 's3://lab-state/lab/x.tfstate');
    assert.ok(t.chain.includes('-backend-config bucket=lab-state (argv[4])'), t.chain.join(' | '));
  });

  it('$TF_CLI_ARGS_init adds -backend-config too', async () => {
    const e = await extractTofu(
      ['tofu', '-chdir=s3-partial', 'init'],
      ctx({ TF_CLI_ARGS_init: '-backend-config="bucket=env-state"' }),
    );
    assert.deepEqual(backends(e.targets), ['s3://env-state']);
  });

  it('the initialised backend in .terraform counts too when it differs from the config', async () => {
    const dir = tempDir('tofu-init');
    writeFileSync(
      join(dir, 'main.tf'),
      'terraform {\n  backend "gcs" {\n    bucket = "corp-tf"\n    prefix = "staging"\n  }\n}\n',
    );
    mkdirSync(join(dir, '.terraform'));
    const state = {
      version: 3,
      backend: { type: 'gcs', config: { bucket: 'corp-tf', prefix: 'prod', credentials: null }, hash: 1 },
    };
    writeFileSync(join(dir, '.terraform', 'terraform.tfstate'), JSON.stringify(state, null, 2));
    const e = await extractTofu(['tofu', 'plan'], ctx({}, dir));
    assert.deepEqual(backends(e.targets), ['gcs://corp-tf/staging', 'gcs://corp-tf/prod']);
    const init = e.targets.find((t) => t.stateBackend === 'gcs://corp-tf/prod')!;
    assert.deepEqual(init.source, {
      kind: 'file',
      file: join(dir, '.terraform', 'terraform.tfstate'),
      line: 3,
      column: 1,
    });
    assert.equal(init.name, 'initialised backend "gcs"');
    // The same backend in both places is one target.
    state.backend.config.prefix = 'staging';
    writeFileSync(join(dir, '.terraform', 'terraform.tfstate'), JSON.stringify(state));
    assert.deepEqual(backends((await extractTofu(['tofu', 'plan'], ctx({}, dir))).targets), ['gcs://corp-tf/staging']);
  });

  it('a broken .terraform/terraform.tfstate is a problem with its line', async () => {
    const dir = tempDir('tofu-bad-state');
    mkdirSync(join(dir, '.terraform'));
    writeFileSync(join(dir, '.terraform', 'terraform.tfstate'), '{\n  "backend": {\n    "type": "s3",\n  }\n}\n');
    const e = await extractTofu(['tofu', 'plan'], ctx({}, dir));
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0].file, join(dir, '.terraform', 'terraform.tfstate'));
    assert.equal(e.problems[0].line, 4);
  });

  it('no backend at all is the local state file', async () => {
    const e = await extractTofu(['tofu', '-chdir=local-only', 'apply'], ctx());
    assert.deepEqual(backends(e.targets), [join(fixtures, 'local-only', 'terraform.tfstate')]);
    assert.equal(e.targets[0].source.kind, 'default');
    assert.deepEqual(hosts(e.targets), []);
  });

  it('the workspace shows in the chain', async () => {
    const e = await extractTofu(['tofu', '-chdir=prod-gcs', 'plan'], ctx({ TF_WORKSPACE: 'blue' }));
    assert.ok(e.targets.find((t) => t.kind === 'state-backend')!.chain.includes('workspace blue'));
  });

  it('-var, -var-file and TF_VAR_ values are searched for endpoints', async () => {
    const dir = tempDir('tofu-vars');
    writeFileSync(join(dir, 'extra.tfvars'), 'api_url = "https://10.3.3.3:8443"\n');
    const e = await extractTofu(
      ['tofu', 'plan', '-var', 'pve_host=pve2.corp.example', '-var-file=extra.tfvars', '-var=count=3'],
      ctx({ TF_VAR_db_host: '10.4.4.4' }, dir),
    );
    assert.deepEqual(hosts(e.targets).sort(), ['10.3.3.3', '10.4.4.4', 'pve2.corp.example']);
    const v = e.targets.find((t) => t.host === 'pve2.corp.example')!;
    assert.deepEqual(v.source, { kind: 'argv', argIndex: 3 });
    assert.deepEqual(e.targets.find((t) => t.host === '10.4.4.4')!.source, { kind: 'env', envVar: 'TF_VAR_db_host' });
  });

  it('malformed HCL is a problem with file:line for each file, never an exception', async () => {
    const e = await extractTofu(['tofu', '-chdir=malformed', 'plan'], ctx());
    assert.deepEqual(
      e.problems.map((p) => [p.file.replace(`${fixtures}/malformed/`, ''), p.line]),
      [
        ['unclosed-block.tf', 1],
        ['unclosed-comment.tf', 4],
        ['unclosed-heredoc.tf', 2],
        ['unclosed-string.tf', 6],
      ],
    );
  });

  it('a -chdir folder that does not exist is a problem', async () => {
    const e = await extractTofu(['tofu', '-chdir=nope', 'plan'], ctx());
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0].file, join(fixtures, 'nope'));
  });

  it('fmt, version, validate and -backend=false touch no state', async () => {
    for (const argv of [
      ['tofu', 'fmt'],
      ['tofu', '-chdir=prod-gcs', 'validate'],
      ['terraform', 'version'],
      ['tofu', '-version'],
    ]) {
      const e = await extractTofu(argv, ctx());
      assert.deepEqual(e.targets, [], argv.join(' '));
    }
    const init = await extractTofu(['tofu', '-chdir=prod-gcs', 'init', '-backend=false'], ctx());
    assert.deepEqual(backends(init.targets), []);
    assert.ok(hosts(init.targets).length > 0, 'providers still count');
  });

  it('a kubernetes provider config_context is followed through its kubeconfig', async () => {
    const dir = tempDir('tofu-kube');
    const kubeconfig = resolve(__dirname, '../../fixtures/kube/prod.yaml');
    writeFileSync(
      join(dir, 'main.tf'),
      `provider "kubernetes" {\n  config_path    = "${kubeconfig}"\n  config_context = "lab"\n}\n`,
    );
    const e = await extractTofu(['tofu', 'plan'], ctx({}, dir));
    const k = e.targets.find((t) => t.kind === 'kube-context')!;
    assert.deepEqual([k.kubeContext, k.host, k.source.line], ['lab', '127.0.0.1', 3]);
    assert.match(k.chain[0], /^provider "kubernetes" config_context = "lab" \(main\.tf:3\)$/);
  });
});

describe('tfEndpoints (editor diagnostics)', () => {
  it('lists endpoints and the backend of one file, with lines and columns', () => {
    const file = join(fixtures, 'prod-gcs', 'main.tf');
    const { endpoints, problems } = tfEndpoints(file, readFileSync(file, 'utf8'));
    assert.deepEqual(problems, []);
    assert.deepEqual(
      endpoints.map((e) => [e.kind, e.host ?? e.stateBackend, e.where, e.line, e.column]),
      [
        ['host', '192.168.1.10', 'provider "postgresql" host', 11, 14],
        ['url', 'pve.corp.example', 'provider "proxmox" endpoint', 17, 14],
        ['url', '192.168.1.20', 'variable "pve_node_url" default', 23, 13],
        ['state-backend', 'gcs://corp-tf/prod', 'backend "gcs"', 3, 3],
      ],
    );
  });

  it('treats a .tfvars file as values everywhere, and reports malformed text', () => {
    const { endpoints } = tfEndpoints('x.tfvars', 'servers = { primary = "10.1.1.1:22" }\n');
    assert.deepEqual(
      endpoints.map((e) => [e.host, e.where]),
      [['10.1.1.1', 'tfvars servers.primary']],
    );
    const bad = tfEndpoints('bad.tf', 'provider "x" {\n  host = "10.0.0.1\n}\n');
    assert.deepEqual(
      bad.problems.map((p) => [p.file, p.line]),
      [['bad.tf', 2]],
    );
  });
});

describe('stateBackendUrl', () => {
  it('spells each backend as the URL the boundary matches', () => {
    assert.equal(stateBackendUrl('s3', { bucket: 'b', key: 'prod/a.tfstate' }, '/w'), 's3://b/prod/a.tfstate');
    assert.equal(stateBackendUrl('gcs', { bucket: 'corp-tf', prefix: '/prod/' }, '/w'), 'gcs://corp-tf/prod');
    assert.equal(
      stateBackendUrl('azurerm', { storage_account_name: 'acct', container_name: 'tf', key: 'prod.tfstate' }, '/w'),
      'azurerm://acct/tf/prod.tfstate',
    );
    assert.equal(
      stateBackendUrl('http', { address: 'https://state.corp.example/x' }, '/w'),
      'https://state.corp.example/x',
    );
    assert.equal(
      stateBackendUrl('consul', { address: 'consul.corp:8500', path: 'tf/prod' }, '/w'),
      'consul://consul.corp:8500/tf/prod',
    );
    assert.equal(
      stateBackendUrl('pg', { conn_str: 'postgres://u:p@db.corp/tf' }, '/w'),
      'pg://db.corp/terraform_remote_state',
    );
    assert.equal(stateBackendUrl('local', { path: 'state/prod.tfstate' }, '/w'), '/w/state/prod.tfstate');
    assert.equal(
      stateBackendUrl('cloud', { organization: 'corp', workspaces: { name: 'prod' } }, '/w'),
      'cloud://app.terraform.io/corp/prod',
    );
  });
});
