// Dashboard webview: renders the state the extension posts. Components from @vscode-elements/elements
// (the maintained successor of the archived webview-ui-toolkit), imported one by one to stay small.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import type { DashboardToExtension, ExtensionToDashboard } from '../src/protocol/webview';

declare function acquireVsCodeApi(): { postMessage(message: DashboardToExtension): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;

window.addEventListener('message', (event: MessageEvent<ExtensionToDashboard>) => {
  const message = event.data;
  switch (message.type) {
    case 'state':
      render(message);
      break;
  }
});

function render(state: Extract<ExtensionToDashboard, { type: 'state' }>): void {
  root.replaceChildren();
  if (!state.configFile) {
    root.append(
      paragraph('No infra-sandbox.yaml in this workspace.'),
      button('Initialize Workspace', 'infraSandbox.workspace.init'),
    );
    return;
  }
  if (!state.configValid) {
    root.append(
      paragraph(
        `infra-sandbox.yaml has ${state.problems} problem${state.problems === 1 ? '' : 's'}; see the Problems panel.`,
      ),
      button('Open Configuration', 'infraSandbox.config.open'),
    );
    return;
  }
  root.append(paragraph('Environment: sandbox — no sandbox running.'));
  if (state.sandboxes.length === 0) {
    root.append(paragraph('No sandboxes are configured.'), button('Open Configuration', 'infraSandbox.config.open'));
    return;
  }
  const table = document.createElement('vscode-table');
  table.setAttribute('zebra', '');
  table.setAttribute('bordered-rows', '');
  const header = document.createElement('vscode-table-header');
  for (const title of ['Sandbox', 'Provider', 'Template', 'State']) {
    const cell = document.createElement('vscode-table-header-cell');
    cell.textContent = title;
    header.append(cell);
  }
  const body = document.createElement('vscode-table-body');
  for (const s of state.sandboxes) {
    const row = document.createElement('vscode-table-row');
    for (const text of [s.name, s.provider, s.template, 'not created']) {
      const cell = document.createElement('vscode-table-cell');
      cell.textContent = text;
      row.append(cell);
    }
    body.append(row);
  }
  table.append(header, body);
  root.append(table);
}

function paragraph(text: string): HTMLElement {
  const p = document.createElement('p');
  p.textContent = text;
  return p;
}

function button(label: string, command: 'infraSandbox.workspace.init' | 'infraSandbox.config.open'): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.addEventListener('click', () => vscode.postMessage({ type: 'runCommand', command }));
  return b;
}

vscode.postMessage({ type: 'ready' });
