// Runs inside the real extension host (code-server), on a temporary copy of examples/homelab.
const assert = require('node:assert/strict');
const fs = require('node:fs/promises');
const vscode = require('vscode');

const EXTENSION_ID = 'infra-sandbox.infra-sandbox';

function configUri() {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens examples/homelab as a workspace folder');
  return vscode.Uri.joinPath(folder.uri, 'infra-sandbox.yaml');
}

function ours(uri) {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'infra-sandbox');
}

/** Waits until `check()` returns a truthy value (diagnostics are published debounced). */
async function eventually(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}

suite('Infra Sandbox in a real VS Code', () => {
  let original;

  suiteSetup(async () => {
    original = await fs.readFile(configUri().fsPath, 'utf8');
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await fs.writeFile(configUri().fsPath, original);
  });

  test('activates on a workspace that contains infra-sandbox.yaml', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded in the extension host`);
    await eventually(() => ext.isActive, 'activation by workspaceContains:infra-sandbox.yaml');
  });

  test('registers every command it contributes', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    const contributed = ext.packageJSON.contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 5, 'the manifest contributes the foundation commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'contributed commands without a handler');
  });

  test('the example config is valid: no diagnostics on it', async () => {
    await vscode.commands.executeCommand('infraSandbox.config.validate');
    assert.deepEqual(
      ours(configUri()).map((d) => d.message),
      [],
    );
  });

  test('a wrong type on disk gets an error at its line, naming the key; fixing it clears it', async () => {
    const uri = configUri();
    const broken = original.replace('maxSandboxes: 3', 'maxSandboxes: three');
    assert.notEqual(broken, original, 'the example has `maxSandboxes: 3` to break');
    const line = original.split('\n').findIndex((l) => l.includes('maxSandboxes: 3'));
    await fs.writeFile(uri.fsPath, broken);
    const d = await eventually(
      () => ours(uri).find((x) => /maxSandboxes/.test(x.message)),
      'a diagnostic on the broken infra-sandbox.yaml',
    );
    assert.equal(ours(uri).length, 1, 'one problem, no other');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(d.range.start.line, line, `diagnostic on line ${line + 1}`);
    assert.match(d.message, /limits\.maxSandboxes/);
    assert.match(d.message, /number|integer/);
    await fs.writeFile(uri.fsPath, original);
    await eventually(() => ours(uri).length === 0, 'the diagnostic to clear after the fix');
  });

  test('an unsaved edit is checked as it is typed, and closing without saving restores the file state', async () => {
    const uri = configUri();
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const at = doc.getText().indexOf('onUnresolved: block');
    assert.ok(at > 0, 'the example sets guard.onUnresolved');
    const edit = new vscode.WorkspaceEdit();
    const start = doc.positionAt(at + 'onUnresolved: '.length);
    edit.replace(uri, new vscode.Range(start, start.translate(0, 'block'.length)), 'maybe');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const [d] = await eventually(() => {
      const found = ours(uri);
      return found.length > 0 && found;
    }, 'a diagnostic for the unsaved edit');
    assert.match(d.message, /guard\.onUnresolved/);
    assert.equal(d.range.start.line, start.line);
    assert.equal(await fs.readFile(uri.fsPath, 'utf8'), original, 'nothing was written to disk');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await eventually(() => ours(uri).length === 0, 'the diagnostic to clear once the edit is reverted');
  });

  test('the production inventory gets guard diagnostics at the lines of its production hosts', async () => {
    const folder = vscode.workspace.workspaceFolders[0].uri;
    const uri = vscode.Uri.joinPath(folder, 'ansible', 'inventories', 'production', 'hosts.ini');
    const lines = (await fs.readFile(uri.fsPath, 'utf8')).split('\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const found = await eventually(
      () => {
        const d = ours(uri).filter((x) => x.code === 'guard.production');
        return d.length >= 2 && d;
      },
      'guard diagnostics on hosts.ini',
      15_000,
    );
    const pi1 = found.find((d) => d.message.startsWith('pi1 '));
    assert.ok(pi1, `a diagnostic for pi1; got ${JSON.stringify(found.map((d) => d.message))}`);
    assert.equal(
      pi1.range.start.line,
      lines.findIndex((l) => l.startsWith('pi1 ')),
    );
    assert.equal(pi1.severity, vscode.DiagnosticSeverity.Warning, 'no sandbox or gate uses this inventory');
    assert.match(pi1.message, /ansible_host 192\.168\.1\.201 .*→ 192\.168\.1\.201 ∈ 192\.168\.1\.0\/24 production/);
    assert.equal(
      lines[pi1.range.start.line].slice(pi1.range.start.character, pi1.range.end.character),
      '192.168.1.201',
    );
    const pi3 = found.find((d) => d.message.startsWith('pi3 '));
    assert.equal(
      pi3?.range.start.line,
      lines.findIndex((l) => l.startsWith('pi3 ')),
    );
  });

  test('a terminal opened in the workbench has the shim folder first on PATH, and a shim blocks production', async () => {
    const out = require('node:path').join(require('node:os').tmpdir(), `isb-e2e-terminal-${process.pid}.txt`);
    const script = [
      `printf '%s\\n' "$PATH" > '${out}'`,
      `command -v ssh >> '${out}'`,
      // Only through the shim (blocked before ssh starts): nothing is ever sent to 192.168.1.201.
      `case "$(command -v ssh)" in */shims/ssh) ssh -o BatchMode=yes root@192.168.1.201 true 2>> '${out}.err'; echo "exit=$?" >> '${out}';; *) echo exit=no-shim >> '${out}';; esac`,
    ].join('; ');
    const report = await eventually(
      async () => {
        await fs.rm(out, { force: true });
        const terminal = vscode.window.createTerminal({
          name: 'e2e guard',
          shellPath: '/bin/sh',
          shellArgs: ['-c', script],
        });
        const text = await eventually(
          async () => {
            const t = await fs.readFile(out, 'utf8').catch(() => '');
            return t.includes('exit=') && t;
          },
          'the terminal to write its report',
          20_000,
        );
        terminal.dispose();
        // The collection is applied when the config has loaded; a terminal before that has the plain PATH.
        return text.split('\n')[0].split(':')[0].endsWith('/shims') && text;
      },
      'a terminal with the shim folder on PATH',
      40_000,
    );
    const [path, ssh, exit] = report.trim().split('\n');
    const shims = path.split(':')[0];
    assert.match(shims, /infra-sandbox\.infra-sandbox\/shims$/, "the shims live in the extension's global storage");
    assert.equal(ssh, `${shims}/ssh`, 'ssh typed in the terminal is the shim');
    assert.equal(
      exit,
      'exit=3',
      `blocked with exit 3; stderr: ${await fs.readFile(`${out}.err`, 'utf8').catch(() => '')}`,
    );
    assert.match(
      await fs.readFile(`${out}.err`, 'utf8'),
      /blocked ssh .*192\.168\.1\.201 ∈ 192\.168\.1\.0\/24 production/s,
    );
    await fs.rm(`${out}.err`, { force: true });
    await fs.rm(out, { force: true });
  });

  test('the companion starts on demand, and after a SIGKILL the extension brings it back by itself', async () => {
    const api = vscode.extensions.getExtension(EXTENSION_ID).exports;
    const first = await eventually(
      () => {
        const s = api.companionState();
        return s && s.kind === 'up' && s;
      },
      'the companion to be up',
      30_000,
    );
    assert.ok(first.info.pid > 0 && first.info.port > 0);
    assert.equal(first.hello.pid, first.info.pid);
    process.kill(first.info.pid, 'SIGKILL');
    await eventually(() => api.companionState()?.kind !== 'up', 'the client to notice the companion is gone', 10_000);
    const second = await eventually(
      () => {
        const s = api.companionState();
        return s && s.kind === 'up' && s.info.pid !== first.info.pid && s;
      },
      'a new companion, connected',
      30_000,
    );
    assert.notEqual(second.info.port, 0);
  });

  test('Initialize Workspace keeps an existing infra-sandbox.yaml unchanged', async () => {
    await vscode.commands.executeCommand('infraSandbox.workspace.init');
    assert.equal(await fs.readFile(configUri().fsPath, 'utf8'), original);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, configUri().fsPath, 'it opens the file');
  });
});
