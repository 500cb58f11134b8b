import * as vscode from 'vscode';
import type { WorkspaceConfig } from '../../core/config/types';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';

export interface Row {
  label: string;
  description?: string;
  tooltip?: string;
  icon?: string;
  contextValue?: string;
  children?: Row[];
  /** What a command run on the row acts on (an operation id, a sandbox name). */
  id?: string;
}

/**
 * A tree of what the workspace config declares (sandboxes, gates or the production boundary).
 * It stays empty — so the view's `viewsWelcome` shows — while there is no valid config.
 */
export class ConfigTreeProvider implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly config: WorkspaceConfigService,
    private readonly rows: (config: WorkspaceConfig) => Row[],
  ) {
    this.subscription = config.onDidChange(() => this.changed.fire());
  }

  getTreeItem(row: Row): vscode.TreeItem {
    const item = new vscode.TreeItem(
      row.label,
      row.children?.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.description = row.description;
    item.tooltip = row.tooltip;
    item.contextValue = row.contextValue;
    if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon);
    return item;
  }

  getChildren(row?: Row): Row[] {
    if (row) return row.children ?? [];
    const snapshot: ConfigSnapshot = this.config.current;
    if (snapshot.state !== 'loaded' || !snapshot.result.ok) return [];
    return this.rows(snapshot.result.config);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

const PROVIDER_ICONS: Record<string, string> = { k3d: 'server-environment', compose: 'layers', multipass: 'vm' };

export function sandboxRows(config: WorkspaceConfig): Row[] {
  return Object.entries(config.sandboxes ?? {}).map(([name, s]) => ({
    label: name,
    description: `${s.provider} · ${s.template}`,
    tooltip: `${name}: ${s.provider} sandbox from template ${s.template}. State: not created (lifecycle is not available yet in this version).`,
    icon: PROVIDER_ICONS[s.provider] ?? 'beaker',
    contextValue: `sandbox:${s.provider}:configured`,
  }));
}

export function gateRows(config: WorkspaceConfig): Row[] {
  const idempotence = (config.gates?.idempotence ?? []).map((g) => ({
    label: g.playbook,
    description: `idempotence${g.sandbox ? ` · ${g.sandbox}` : ''}`,
    tooltip: `ansible-playbook --check --diff must report changed=0 on sandbox ${g.sandbox ?? '(none)'}. No run yet.`,
    icon: 'checklist',
    contextValue: 'gate:idempotence',
  }));
  const plan = (config.gates?.plan ?? []).map((g) => ({
    label: g.dir,
    description: `plan${g.sandbox ? ` · ${g.sandbox}` : ''}${g.expect ? ` · ${g.expect}` : ''}`,
    tooltip: `OpenTofu plan checked against policy${g.protect?.length ? `; protected: ${g.protect.join(', ')}` : ''}. No run yet.`,
    icon: 'diff',
    contextValue: 'gate:plan',
  }));
  return [...idempotence, ...plan];
}

export function boundaryRows(config: WorkspaceConfig): Row[] {
  const group = (label: string, values: string[] | undefined, icon: string): Row[] =>
    values?.length
      ? [{ label, icon, description: `${values.length}`, children: values.map((v) => ({ label: v })) }]
      : [];
  const p = config.production ?? {};
  return [
    ...group('Production networks', p.networks, 'error'),
    ...group('Production host patterns', p.hosts, 'globe'),
    ...group('Production kube contexts', p.kubeContexts, 'symbol-namespace'),
    ...group('Production state backends', p.stateBackends, 'database'),
    ...group('Target environment variables', p.env, 'symbol-variable'),
    ...group('Sandbox networks', config.sandbox?.networks, 'pass'),
  ];
}

/**
 * A row as a tree item with a Markdown tooltip and an icon that may carry a colour
 * (`id|themeColor`): the views that show state (Guard, Sandboxes) use it.
 */
export function stateTreeItem(row: Row, whenChildren: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const item = new vscode.TreeItem(
    row.label,
    row.children?.length ? whenChildren : vscode.TreeItemCollapsibleState.None,
  );
  item.description = row.description;
  item.contextValue = row.contextValue;
  if (row.tooltip) item.tooltip = new vscode.MarkdownString(row.tooltip);
  if (row.icon) {
    const [id, color] = row.icon.split('|');
    item.iconPath = new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
  }
  return item;
}
