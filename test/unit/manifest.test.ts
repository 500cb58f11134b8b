import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const manifest = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
const contributes = manifest.contributes;

describe('extension manifest', () => {
  it('names every command infraSandbox.* in the "Infra Sandbox" category', () => {
    for (const c of contributes.commands) {
      assert.match(c.command, /^infraSandbox\.[a-z]+\.[a-z]+$/i, c.command);
      assert.equal(c.category, 'Infra Sandbox', c.command);
    }
  });

  it('gives every tree view an empty state for both with and without a config', () => {
    const trees = contributes.views.infraSandbox.filter((v: { type?: string }) => v.type !== 'webview');
    assert.deepEqual(
      trees.map((v: { id: string }) => v.id),
      ['infraSandbox.sandboxes', 'infraSandbox.gates', 'infraSandbox.guard'],
    );
    for (const view of trees) {
      const whens = contributes.viewsWelcome
        .filter((w: { view: string }) => w.view === view.id)
        .map((w: { when: string }) => w.when);
      assert.deepEqual(whens.sort(), ['!infraSandbox:hasConfig', 'infraSandbox:hasConfig'], view.id);
    }
  });

  it('declares limited support in untrusted workspaces', () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  });

  it('contributes the config schema for infra-sandbox.yaml', () => {
    assert.deepEqual(contributes.yamlValidation, [
      { fileMatch: 'infra-sandbox.yaml', url: './schema/infra-sandbox.schema.json' },
    ]);
  });
});
