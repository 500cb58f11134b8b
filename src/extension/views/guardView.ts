import * as vscode from 'vscode';
import { verdictLogPath, readRecentVerdicts, type VerdictRecord } from '../../core/guard/verdictLog';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';
import { boundaryRows, stateTreeItem, type Row } from './configTree';

const RECENT = 15;

/**
 * The *Guard* view (SPEC §5): the production boundary of the config, then the last verdicts of
 * `guard exec` (terminal shims and the CLI), newest first, each with its chain in the tooltip.
 * Empty (so `viewsWelcome` shows) while there is no valid config.
 */
export class GuardTreeProvider implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watcher: vscode.Disposable | undefined;
  private recent: VerdictRecord[] = [];
  private logFile: string | undefined;

  constructor(private readonly config: WorkspaceConfigService) {
    this.disposables.push(config.onDidChange((s) => void this.follow(s)));
    void this.follow(config.current);
  }

  private async follow(s: ConfigSnapshot): Promise<void> {
    const file = s.state === 'loaded' ? verdictLogPath(s.uri.fsPath) : undefined;
    if (file !== this.logFile) {
      this.watcher?.dispose();
      this.watcher = undefined;
      this.logFile = file;
      if (file) {
        const uri = vscode.Uri.file(file);
        const w = vscode.workspace.createFileSystemWatcher(
          new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), 'guard-verdicts.jsonl'),
        );
        const again = () => void this.reload();
        this.watcher = vscode.Disposable.from(w, w.onDidChange(again), w.onDidCreate(again), w.onDidDelete(again));
      }
    }
    await this.reload();
  }

  /** Reads the verdict log again (the watcher calls it; tests and commands may too). */
  async reload(): Promise<void> {
    this.recent = this.logFile ? await readRecentVerdicts(this.logFile, RECENT) : [];
    this.changed.fire();
  }

  getTreeItem(row: Row): vscode.TreeItem {
    return stateTreeItem(
      row,
      row.contextValue === 'guard:verdicts'
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed,
    );
  }

  getChildren(row?: Row): Row[] {
    if (row) return row.children ?? [];
    const s = this.config.current;
    if (s.state !== 'loaded' || !s.result.ok) return [];
    return [...boundaryRows(s.result.config), verdictRows(this.recent)];
  }

  dispose(): void {
    this.watcher?.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

/** "Recent verdicts": one row per `guard exec`, newest first. */
export function verdictRows(records: VerdictRecord[], now = Date.now()): Row {
  const blocked = records.filter((r) => r.verdict === 'block').length;
  return {
    label: 'Recent verdicts',
    icon: 'history',
    contextValue: 'guard:verdicts',
    description: records.length ? `${records.length} · ${blocked} blocked` : 'none yet',
    tooltip: records.length
      ? 'The last commands the guard decided (terminal shims and `infra-sandbox guard exec`), newest first.'
      : 'No guarded command has run yet. Commands typed in a new integrated terminal go through the guard.',
    children: records.map((r) => {
      const command = r.command.join(' ');
      const first = r.targets.find((t) => t.production) ?? r.targets[0];
      const lines = [
        `**${r.verdict === 'block' ? 'Blocked' : 'Allowed'}** ${new Date(r.at).toLocaleString()}`,
        '',
        '```',
        command,
        '```',
        r.reason,
        ...(first ? ['', '```', first.chain.join('\n→ '), '```'] : []),
        '',
        `in \`${r.cwd}\``,
      ];
      return {
        label: command.length > 60 ? `${command.slice(0, 59)}…` : command,
        description: `${r.verdict === 'block' ? 'blocked' : 'allowed'} · ${ago(now - Date.parse(r.at))}`,
        tooltip: lines.join('\n'),
        icon: r.verdict === 'block' ? 'error|errorForeground' : 'pass|testing.iconPassed',
        contextValue: `guard:verdict:${r.verdict}`,
      };
    }),
  };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
