import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

// The house rule "the core knows no editor" is enforced by lint; prove the rule bites.
describe('lint: src/core and src/protocol never import vscode', () => {
  const eslint = new ESLint();
  const source = "import * as vscode from 'vscode';\nexport const x = vscode.version;\n";

  for (const file of ['src/core/config/leak.ts', 'src/protocol/leak.ts']) {
    it(`rejects an import of vscode in ${file}`, async () => {
      const [result] = await eslint.lintText(source, { filePath: file });
      const hits = result.messages.filter((m) => /restricted-imports/.test(m.ruleId ?? ''));
      assert.ok(hits.length > 0, JSON.stringify(result.messages));
      assert.match(hits[0].message, /know no editor/);
    });
  }

  it('allows it in src/extension', async () => {
    const [result] = await eslint.lintText(source, { filePath: 'src/extension/ok.ts' });
    assert.deepEqual(
      result.messages.filter((m) => /restricted-imports/.test(m.ruleId ?? '')),
      [],
    );
  });

  it('rejects shell: true anywhere', async () => {
    const [result] = await eslint.lintText('export const o = { shell: true };\n', { filePath: 'src/core/exec/bad.ts' });
    assert.ok(
      result.messages.some((m) => /argument arrays only/.test(m.message)),
      JSON.stringify(result.messages),
    );
  });
});
