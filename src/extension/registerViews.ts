import * as vscode from 'vscode';
import type { WorkspaceConfigService } from './config/workspaceConfig';
import { ConfigTreeProvider, gateRows } from './views/configTree';
import { DashboardViewProvider } from './views/dashboardView';
import { GuardTreeProvider } from './views/guardView';
import { SandboxesTreeProvider } from './views/sandboxesView';

/** The only place that creates views (STYLE habit 3). */
export function registerViews(
  extensionUri: vscode.Uri,
  config: WorkspaceConfigService,
): { disposables: vscode.Disposable[]; sandboxes: SandboxesTreeProvider } {
  const sandboxes = new SandboxesTreeProvider(config);
  const trees = [
    ['infraSandbox.sandboxes', sandboxes],
    ['infraSandbox.gates', new ConfigTreeProvider(config, gateRows)],
    ['infraSandbox.guard', new GuardTreeProvider(config)],
  ] as const;
  const dashboard = new DashboardViewProvider(extensionUri, config);
  const disposables = [
    ...trees.flatMap(([id, provider]) => [provider, vscode.window.createTreeView(id, { treeDataProvider: provider })]),
    dashboard,
    vscode.window.registerWebviewViewProvider(DashboardViewProvider.viewId, dashboard),
  ];
  return { disposables, sandboxes };
}
