import * as vscode from 'vscode';
import type { WorkspaceConfigService } from './config/workspaceConfig';
import { ConfigTreeProvider, gateRows, sandboxRows } from './views/configTree';
import { DashboardViewProvider } from './views/dashboardView';
import { GuardTreeProvider } from './views/guardView';

/** The only place that creates views (STYLE habit 3). */
export function registerViews(extensionUri: vscode.Uri, config: WorkspaceConfigService): vscode.Disposable[] {
  const trees = [
    ['infraSandbox.sandboxes', new ConfigTreeProvider(config, sandboxRows)],
    ['infraSandbox.gates', new ConfigTreeProvider(config, gateRows)],
    ['infraSandbox.guard', new GuardTreeProvider(config)],
  ] as const;
  const dashboard = new DashboardViewProvider(extensionUri, config);
  return [
    ...trees.flatMap(([id, provider]) => [provider, vscode.window.createTreeView(id, { treeDataProvider: provider })]),
    dashboard,
    vscode.window.registerWebviewViewProvider(DashboardViewProvider.viewId, dashboard),
  ];
}
