import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { extractKube, kubeconfigEndpoints, readKubeconfigTargets } from '../../../src/core/guard/families/kube';
import type { ExtractContext, Extraction } from '../../../src/core/guard/types';
import { tempDir } from '../../helpers/tmp';

const fixtures = resolve(__dirname, '../../fixtures/kube');
const prod = join(fixtures, 'prod.yaml');
const lab = join(fixtures, 'lab.yaml');

function ctx(env: NodeJS.ProcessEnv = {}, home = tempDir('kube-home')): ExtractContext {
  return { cwd: fixtures, env, home, inventoryParser: 'builtin' };
}

function only(e: Extraction) {
  assert.deepEqual(e.problems, []);
  assert.equal(e.targets.length, 1, JSON.stringify(e.targets));
  return e.targets[0];
}

describe('kube extractor (kubectl, helm)', () => {
  it('follows current-context → cluster → server, with the lines of each hop', async () => {
    const t = only(await extractKube(['kubectl', '--kubeconfig', prod, 'get', 'pods'], ctx()));
    assert.equal(t.kind, 'kube-context');
    assert.equal(t.name, 'corp-prod');
    assert.equal(t.kubeContext, 'corp-prod');
    assert.equal(t.host, '10.0.0.1');
    assert.deepEqual(t.source, { kind: 'file', file: prod, line: 20, column: 18 });
    assert.deepEqual(t.chain, [
      'context corp-prod (prod.yaml:12)',
      'cluster corp → server https://10.0.0.1:6443 (prod.yaml:6)',
    ]);
  });

  it('--context picks another context and is the source', async () => {
    const t = only(
      await extractKube(['kubectl', '--kubeconfig=' + prod, '--context', 'lab', 'apply', '-f', 'x.yaml'], ctx()),
    );
    assert.equal(t.kubeContext, 'lab');
    assert.equal(t.host, '127.0.0.1');
    assert.deepEqual(t.source, { kind: 'argv', argIndex: 3, detail: '--context' });
    assert.match(t.chain[0], /^context lab \(argv\[3\] --context; prod\.yaml:16\)$/);
  });

  it('merges KUBECONFIG like kubectl: current-context and each name from the first file that has it', async () => {
    const env = { KUBECONFIG: `${prod}:${lab}` };
    assert.equal(only(await extractKube(['kubectl', 'get', 'ns'], ctx(env))).host, '10.0.0.1');
    const reversed = { KUBECONFIG: `${lab}:${prod}` };
    const current = only(await extractKube(['kubectl', 'get', 'ns'], ctx(reversed)));
    assert.equal(current.kubeContext, 'sandbox');
    assert.equal(current.host, '127.0.0.1');
    // corp-prod is defined by both files: lab.yaml (first) wins, and points at its sandbox cluster.
    const corp = only(await extractKube(['kubectl', '--context', 'corp-prod', 'get', 'ns'], ctx(reversed)));
    assert.equal(corp.host, '127.0.0.1');
    // Context lab only exists in prod.yaml, but cluster lab is found first in lab.yaml.
    const labCtx = only(await extractKube(['kubectl', '--context', 'lab', 'get', 'ns'], ctx(reversed)));
    assert.equal(labCtx.host, '192.168.64.10');
    assert.match(labCtx.chain[1], /lab\.yaml:7\)$/);
  });

  it('skips KUBECONFIG entries that do not exist, as kubectl does', async () => {
    const env = { KUBECONFIG: `/nonexistent/config::${prod}` };
    assert.equal(only(await extractKube(['kubectl', 'get', 'ns'], ctx(env))).kubeContext, 'corp-prod');
  });

  it('reads ~/.kube/config by default', async () => {
    const home = tempDir('kube-home');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), readFileSync(prod));
    const t = only(await extractKube(['kubectl', 'get', 'pods'], ctx({}, home)));
    assert.equal(t.host, '10.0.0.1');
    assert.equal(t.chain[0], 'context corp-prod (~/.kube/config:12)');
  });

  it('with no kubeconfig at all, kubectl would try localhost:8080', async () => {
    const t = only(await extractKube(['kubectl', 'get', 'pods'], ctx()));
    assert.equal(t.host, 'localhost');
    assert.equal(t.source.kind, 'default');
  });

  it('an unknown context is a problem that lists the known ones', async () => {
    const e = await extractKube(['kubectl', '--kubeconfig', prod, '--context', 'nope', 'get', 'pods'], ctx());
    assert.deepEqual(e.targets, []);
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0].file, prod);
    assert.match(e.problems[0].message, /kube context "nope" .* is not defined .*known contexts: corp-prod, lab/);
  });

  it('no current-context and no --context is a problem; --context then works, with the proxy too', async () => {
    const file = join(fixtures, 'no-current.yaml');
    const e = await extractKube(['kubectl', '--kubeconfig', file, 'get', 'pods'], ctx());
    assert.equal(e.targets.length, 0);
    assert.match(e.problems[0].message, /no current-context/);
    const ok = await extractKube(['kubectl', '--kubeconfig', file, '--context=edge', 'get', 'pods'], ctx());
    assert.deepEqual(
      ok.targets.map((t) => [t.kind, t.host]),
      [
        ['kube-context', 'edge.corp.example'],
        ['url', 'proxy.corp.example'],
      ],
    );
    assert.match(ok.targets[1].chain[1], /proxy-url http:\/\/proxy\.corp\.example:3128 \(no-current\.yaml:7\)/);
  });

  it('a context whose cluster is missing is a problem at the context', async () => {
    const file = join(fixtures, 'dangling.yaml');
    const e = await extractKube(['kubectl', '--kubeconfig', file, 'get', 'pods'], ctx());
    assert.deepEqual(
      e.problems.map((p) => [p.file, p.line]),
      [[file, 4]],
    );
    assert.match(e.problems[0].message, /uses cluster "missing-cluster", which is not defined/);
  });

  it('malformed YAML is a problem with file:line, not an exception', async () => {
    const file = join(fixtures, 'malformed-config');
    const e = await extractKube(['kubectl', '--kubeconfig', file, 'get', 'pods'], ctx());
    assert.equal(e.targets.length, 0);
    assert.equal(e.problems[0].file, file);
    assert.equal(e.problems[0].line, 6);
    assert.match(e.problems[0].message, /not valid YAML/);
  });

  it('a kubeconfig of the wrong shape is a problem at each wrong place', async () => {
    const file = join(fixtures, 'wrong-shape.yaml');
    const e = await extractKube(['kubectl', '--kubeconfig', file, '--context', 'x', 'get', 'pods'], ctx());
    assert.deepEqual(
      e.problems.slice(0, 2).map((p) => [p.line, p.message]),
      [
        [2, 'clusters must be a list of { name, cluster }'],
        [4, 'each entry of contexts needs a name'],
      ],
    );
  });

  it('--kubeconfig naming a missing file is a problem', async () => {
    const e = await extractKube(['kubectl', '--kubeconfig', 'missing.yaml', 'get', 'pods'], ctx());
    assert.deepEqual(e.problems, [
      { file: join(fixtures, 'missing.yaml'), line: 1, column: 1, message: 'cannot read: file not found' },
    ]);
  });

  it('--server / -s override the cluster server; --cluster the cluster', async () => {
    const s = only(
      await extractKube(['kubectl', '--kubeconfig', prod, '-s', 'https://192.168.1.9:6443', 'get', 'pods'], ctx()),
    );
    assert.equal(s.host, '192.168.1.9');
    assert.equal(s.kubeContext, 'corp-prod');
    assert.match(s.chain[1], /server https:\/\/192\.168\.1\.9:6443 \(argv\[4\] -s\)/);
    const c = only(await extractKube(['kubectl', '--kubeconfig', prod, '--cluster', 'lab', 'get', 'pods'], ctx()));
    assert.equal(c.host, '127.0.0.1');
  });

  it('-s glued to its value or with =, and shorthand clusters before the subcommand (pflag)', async () => {
    for (const argv of [
      ['kubectl', '--kubeconfig', prod, '-shttps://192.168.1.9:6443', 'get', 'pods'],
      ['kubectl', '--kubeconfig', prod, '-s=https://192.168.1.9:6443', 'get', 'pods'],
    ]) {
      const t = only(await extractKube(argv, ctx()));
      assert.equal(t.host, '192.168.1.9', argv.join(' '));
      assert.match(t.chain[1], /server https:\/\/192\.168\.1\.9:6443 \(argv\[3\] -s\)/, argv.join(' '));
    }
    // `-nkube-system` is a namespace, not the subcommand: `config view` still reaches no cluster.
    const local = await extractKube(['kubectl', '-nkube-system', 'config', 'view'], ctx());
    assert.deepEqual(local.targets, []);
    assert.match(local.notes[0], /kubectl config only reads or edits local files/);
  });

  it('helm: --kube-context, $HELM_KUBECONTEXT and --kube-apiserver', async () => {
    const env = { KUBECONFIG: prod };
    assert.equal(
      only(await extractKube(['helm', 'upgrade', 'x', './c', '--kube-context', 'lab'], ctx(env))).host,
      '127.0.0.1',
    );
    const fromEnv = only(await extractKube(['helm', 'list'], ctx({ ...env, HELM_KUBECONTEXT: 'lab' })));
    assert.deepEqual(fromEnv.source, { kind: 'env', envVar: 'HELM_KUBECONTEXT' });
    const api = only(await extractKube(['helm', 'list', '--kube-apiserver=https://10.9.8.7:6443'], ctx(env)));
    assert.equal(api.host, '10.9.8.7');
    // kubectl's --context means nothing to helm.
    assert.equal(only(await extractKube(['helm', 'list', '--context', 'lab'], ctx(env))).kubeContext, 'corp-prod');
  });

  it('commands that only touch local files reach no cluster', async () => {
    const env = { KUBECONFIG: prod };
    for (const argv of [
      ['kubectl', 'config', 'use-context', 'lab'],
      ['kubectl', '--kubeconfig', prod, 'config', 'view'],
      ['kubectl', 'version', '--client'],
      ['helm', 'repo', 'add', 'x', 'https://charts.example.test'],
      ['helm', 'template', './chart'],
    ]) {
      const e = await extractKube(argv, ctx(env));
      assert.deepEqual(e.targets, [], argv.join(' '));
      assert.equal(e.notes.length, 1);
    }
    assert.equal((await extractKube(['kubectl', 'version'], ctx(env))).targets.length, 1);
    assert.equal((await extractKube(['helm', 'template', './chart', '--validate'], ctx(env))).targets.length, 1);
  });

  it('flags after -- belong to the container command, not to kubectl', async () => {
    const t = only(
      await extractKube(['kubectl', '--kubeconfig', prod, 'exec', 'p', '--', 'x', '--context', 'lab'], ctx()),
    );
    assert.equal(t.kubeContext, 'corp-prod');
  });
});

describe('readKubeconfigTargets (status bar)', () => {
  it('gives the active context of the merged files, or the override', async () => {
    const active = only(await readKubeconfigTargets([lab, prod], undefined, { cwd: fixtures, home: '/home/none' }));
    assert.equal(active.kubeContext, 'sandbox');
    const other = only(await readKubeconfigTargets([prod], 'lab', { cwd: fixtures, home: '/home/none' }));
    assert.equal(other.host, '127.0.0.1');
  });
});

describe('kubeconfigEndpoints (editor diagnostics)', () => {
  it('lists every server and proxy with its line and the contexts using it', () => {
    const { endpoints, problems } = kubeconfigEndpoints(prod, readFileSync(prod, 'utf8'));
    assert.deepEqual(problems, []);
    assert.deepEqual(
      endpoints.map((e) => [e.cluster, e.field, e.host, e.line, e.column, e.contexts]),
      [
        ['corp', 'server', '10.0.0.1', 6, 15, ['corp-prod']],
        ['lab', 'server', '127.0.0.1', 10, 15, ['lab']],
      ],
    );
    const proxied = kubeconfigEndpoints('k', readFileSync(join(fixtures, 'no-current.yaml'), 'utf8')).endpoints;
    assert.deepEqual(
      proxied.map((e) => [e.field, e.host, e.line]),
      [
        ['server', 'edge.corp.example', 6],
        ['proxy-url', 'proxy.corp.example', 7],
      ],
    );
  });

  it('reports malformed YAML as a problem', () => {
    const { endpoints, problems } = kubeconfigEndpoints('bad.yaml', 'clusters:\n  - name: [unclosed\n');
    assert.deepEqual(endpoints, []);
    assert.equal(problems[0].file, 'bad.yaml');
    assert.ok(problems[0].line >= 2);
  });
});
