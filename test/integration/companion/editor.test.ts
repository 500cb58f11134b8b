// What the editor asks the companion (issue #3's surfaces, served by #4's companion): the guard
// diagnostics of one file, its text unsaved, and whether the window's kube context is production.
// A real companion over a real socket; production addresses are data only, never contacted.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResponseError } from 'vscode-jsonrpc/node';
import type { CompanionConnection } from '../../../src/companion/client';
import type { Companion } from '../../../src/companion/server';
import { GuardEnvironment, GuardFileFindings } from '../../../src/protocol/companion';
import { rpcClient, testCompanion } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

describe('the editor through the companion', () => {
  let companion: Companion;
  let client: CompanionConnection;
  const ws = tempDir('companion-editor');
  const configFile = join(ws, 'infra-sandbox.yaml');

  before(async () => {
    writeFileSync(
      configFile,
      [
        'version: 1',
        'production:',
        '  networks: [192.168.1.0/24]',
        '  kubeContexts: [corp-prod]',
        'sandbox:',
        '  networks: [127.0.0.0/8]',
        '',
      ].join('\n'),
    );
    mkdirSync(join(ws, 'inventory', 'host_vars'), { recursive: true });
    writeFileSync(join(ws, 'inventory', 'hosts.ini'), '[web]\nweb1 ansible_host=127.0.0.11\nweb2\n');
    writeFileSync(join(ws, 'inventory', 'host_vars', 'web2.yml'), 'ansible_host: 127.0.0.12\n');
    companion = await testCompanion();
    client = await rpcClient(companion);
  });
  after(async () => {
    await client.close();
    await companion.close();
  });

  it('guard/fileFindings: the unsaved text is what counts, with the line and the chain', async () => {
    const file = join(ws, 'inventory', 'hosts.ini');
    const saved = await client.sendRequest(GuardFileFindings, {
      file,
      text: '[web]\nweb1 ansible_host=127.0.0.11\nweb2\n',
      configFile,
      lookups: true,
    });
    assert.equal(saved?.kind, 'inventory');
    assert.deepEqual(saved.findings, []);

    const edited = await client.sendRequest(GuardFileFindings, {
      file,
      text: '[web]\nweb1 ansible_host=192.168.1.21\nweb2\n',
      configFile,
      // An unsaved host_vars edit counts too.
      overrides: { [join(ws, 'inventory', 'host_vars', 'web2.yml')]: 'ansible_host: 3232235978\n' },
      lookups: true,
    });
    assert.deepEqual(
      edited?.findings.map((f) => [f.line, f.column, f.kind]),
      [
        [2, 19, 'production'],
        [3, 1, 'production'],
      ],
    );
    assert.match(edited.findings[0].message, /^web1 is production \(192\.168\.1\.21 ∈ 192\.168\.1\.0\/24\)/);
    assert.match(edited.findings[1].message, /3232235978 .*192\.168\.1\.202 ∈ 192\.168\.1\.0\/24 production/);
  });

  it('guard/fileFindings: null for a file the guard does not read; bad params are -32602', async () => {
    const none = await client.sendRequest(GuardFileFindings, {
      file: join(ws, 'README.md'),
      text: '# hello\n',
      configFile,
      lookups: true,
    });
    assert.equal(none, null);
    await assert.rejects(
      client.sendRequest(GuardFileFindings, { file: 'relative.ini', text: '', configFile, lookups: true }),
      (err: ResponseError<unknown>) => err.code === -32602 && /file/.test(err.message),
    );
  });

  it('guard/environment: the window’s current kube context, decided with the window’s KUBECONFIG', async () => {
    const kubeconfig = (context: string) => {
      const file = join(ws, `kube-${context}.yaml`);
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '  - name: office',
          '    cluster: { server: "https://127.0.0.1:6443" }',
          'contexts:',
          `  - name: ${context}`,
          '    context: { cluster: office, user: me }',
          `current-context: ${context}`,
          '',
        ].join('\n'),
      );
      return file;
    };
    const ask = (file: string) =>
      client.sendRequest(GuardEnvironment, {
        cwd: ws,
        env: { PATH: '/usr/bin:/bin', HOME: ws, KUBECONFIG: file },
        configFile,
      });
    const prod = await ask(kubeconfig('corp-prod'));
    assert.equal(prod.production?.rule, 'kube context corp-prod production');
    const lab = await ask(kubeconfig('k3d-lab'));
    assert.equal(lab.production, null);
    assert.match(lab.reason, /outside production/);
  });
});
