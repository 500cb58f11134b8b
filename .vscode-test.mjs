// Opt-in: `npm run test:vscode-desktop` runs the e2e suite in desktop VS Code through @vscode/test-cli,
// which downloads VS Code — so it needs internet and is not part of `npm test` (that one uses
// code-server; see test/e2e/run.mjs). The suite edits its workspace, so it gets a fresh copy.
import { defineConfig } from '@vscode/test-cli';
import { cpSync, rmSync } from 'node:fs';

const workspace = '.vscode-test/desktop-workspace/homelab';
rmSync(workspace, { recursive: true, force: true });
cpSync('examples/homelab', workspace, { recursive: true });

export default defineConfig({
  label: 'desktop',
  files: 'test/e2e/suite/*.test.cjs',
  workspaceFolder: workspace,
  mocha: { ui: 'tdd', timeout: 30_000 },
});
