import * as vscode from 'vscode';
import type { OperationInfo, OperationState } from '../../protocol/companion';
import type { CompanionClient } from '../companion/companionClient';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import { sandboxRows, type Row } from './configTree';

const ICONS: Record<OperationState, string> = {
  queued: 'clock',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  interrupted: 'warning',
};

/**
 * The *Sandboxes* view: the sandboxes of the config, then the companion's operations — running and
 * queued first, then the recent ones — each cancellable from its inline button while it is active.
 * Empty (so `viewsWelcome` shows) while there is no valid config.
 */
export class SandboxesTreeProvider implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private companion: CompanionClient | undefined;

  constructor(private readonly config: WorkspaceConfigService) {
    this.disposables.push(config.onDidChange(() => this.changed.fire()));
  }

  /** The companion arrives after activation (it is loaded lazily). */
  attach(companion: CompanionClient): vscode.Disposable {
    this.companion = companion;
    this.changed.fire();
    return vscode.Disposable.from(
      companion.onDidChangeOperations(() => this.changed.fire()),
      companion.onDidChangeState(() => this.changed.fire()),
    );
  }

  getTreeItem(row: Row): vscode.TreeItem {
    const item = new vscode.TreeItem(
      row.label,
      row.children?.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.description = row.description;
    item.tooltip = row.tooltip ? new vscode.MarkdownString(row.tooltip) : undefined;
    item.contextValue = row.contextValue;
    if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon);
    return item;
  }

  getChildren(row?: Row): Row[] {
    if (row) return row.children ?? [];
    const s = this.config.current;
    if (s.state !== 'loaded' || !s.result.ok) return [];
    const ops = this.companion?.operationList ?? [];
    return [...sandboxRows(s.result.config), ...(ops.length ? [operationRows(ops)] : [])];
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

const ORDER: Record<OperationState, number> = {
  running: 0,
  queued: 1,
  failed: 2,
  interrupted: 2,
  cancelled: 2,
  succeeded: 2,
};

/** "Operations": running, then queued (oldest first), then finished (newest first). */
export function operationRows(ops: OperationInfo[]): Row {
  const sorted = [...ops].sort(
    (a, b) =>
      ORDER[a.state] - ORDER[b.state] ||
      (ORDER[a.state] < 2 ? a.queuedAt.localeCompare(b.queuedAt) : (b.endedAt ?? '').localeCompare(a.endedAt ?? '')),
  );
  const active = ops.filter((o) => o.state === 'running' || o.state === 'queued').length;
  return {
    label: 'Operations',
    icon: 'tasklist',
    description: active ? `${active} active` : 'none active',
    contextValue: 'operations',
    children: sorted.slice(0, 20).map((op) => ({
      id: op.id,
      label: `${op.kind} ${op.key}`,
      description: [op.state, op.message && op.message !== op.state ? op.message : undefined]
        .filter(Boolean)
        .join(' · '),
      icon: ICONS[op.state],
      contextValue: `operation:${op.state}`,
      tooltip: [
        `**${op.kind}** \`${op.key}\` — ${op.state}`,
        '',
        `queued ${op.queuedAt}${op.startedAt ? `, started ${op.startedAt}` : ''}${op.endedAt ? `, ended ${op.endedAt}` : ''}`,
        ...(op.error ? ['', op.error] : []),
        ...(op.origin ? ['', `started from ${op.origin}`] : []),
        '',
        `\`${op.id}\``,
      ].join('\n'),
    })),
  };
}
