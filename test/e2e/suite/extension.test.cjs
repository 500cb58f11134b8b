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
    const [d] = await eventually(() => {
      const found = ours(uri);
      return found.length > 0 && found;
    }, 'a diagnostic on the broken infra-sandbox.yaml');
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

  test('Initialize Workspace keeps an existing infra-sandbox.yaml unchanged', async () => {
    await vscode.commands.executeCommand('infraSandbox.workspace.init');
    assert.equal(await fs.readFile(configUri().fsPath, 'utf8'), original);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, configUri().fsPath, 'it opens the file');
  });
});
