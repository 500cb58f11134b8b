import * as vscode from 'vscode';
import type { SandboxConfig } from '../../core/config/types';
import type { SandboxMember, SandboxStatus } from '../../core/sandbox/types';
import type { OperationInfo, OperationState } from '../../protocol/companion';
import type { CompanionClient } from '../companion/companionClient';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import { stateTreeItem, type Row } from './configTree';

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
  private statuses = new Map<string, SandboxStatus>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly config: WorkspaceConfigService) {
    this.disposables.push(config.onDidChange(() => void this.refresh()));
  }

  /** The companion arrives after activation (it is loaded lazily). */
  attach(companion: CompanionClient): vscode.Disposable {
    this.companion = companion;
    void this.refresh();
    return vscode.Disposable.from(
      companion.onDidChangeOperations(() => this.changed.fire()),
      companion.onDidChangeState((s) => (s.kind === 'up' ? void this.refresh() : this.changed.fire())),
      companion.onSandboxChanged((s) => {
        this.statuses.set(s.name, s);
        this.changed.fire();
      }),
    );
  }

  /** The sandboxes' real state, as the companion reads it from the providers. */
  get sandboxStatuses(): SandboxStatus[] {
    return [...this.statuses.values()];
  }

  /** Asks the companion for every sandbox's real state again. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const s = this.config.current;
    const companion = this.companion;
    if (s.state === 'loaded' && s.result.ok && companion?.current.kind === 'up') {
      try {
        const list = await companion.listSandboxes(s.uri.fsPath);
        this.statuses = new Map(list.map((x) => [x.name, x]));
      } catch {
        // Shown as unknown; the companion's log says why.
      }
    }
    this.changed.fire();
  }

  getTreeItem(row: Row): vscode.TreeItem {
    const item = stateTreeItem(
      row,
      row.contextValue?.startsWith('sandbox:')
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.Expanded,
    );
    item.id = row.id ? `${row.contextValue?.split(':')[0] ?? 'row'}:${row.id}` : undefined;
    return item;
  }

  getChildren(row?: Row): Row[] {
    if (row) return row.children ?? [];
    const s = this.config.current;
    if (s.state !== 'loaded' || !s.result.ok) return [];
    const ops = this.companion?.operationList ?? [];
    const up = this.companion?.current.kind === 'up';
    const rows = Object.entries(s.result.config.sandboxes ?? {}).map(([name, cfg]) =>
      sandboxRow(name, cfg, this.statuses.get(name), up),
    );
    return [...rows, ...(ops.length ? [operationRows(ops)] : [])];
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

const STATE_ICONS: Record<SandboxStatus['state'], string> = {
  absent: 'circle-large-outline',
  creating: 'sync~spin',
  running: 'vm-running|testing.iconPassed',
  stopped: 'debug-stop',
  degraded: 'warning|list.warningForeground',
  unknown: 'question',
};

/** One sandbox: its state from the provider (or "not created"), its members below. */
export function sandboxRow(
  name: string,
  cfg: SandboxConfig,
  status: SandboxStatus | undefined,
  companionUp: boolean,
): Row {
  const state = status?.state ?? (companionUp ? 'unknown' : 'unknown');
  // `unknown` comes with why (a tool that is not installed, an engine that is down): say that.
  const why = state === 'unknown' && status?.detail ? status.detail.split(/[:.;\n]/)[0].slice(0, 48) : undefined;
  const shown = !status
    ? companionUp
      ? 'checking…'
      : 'companion down'
    : state === 'absent'
      ? 'not created'
      : (why ?? state);
  const members = status?.members ?? [];
  const healthy = members.filter((m) => m.state === 'running' && m.health !== 'unhealthy').length;
  const artifacts = status?.artifacts ?? {};
  return {
    id: name,
    label: name,
    description: `${cfg.provider} · ${shown}${members.length ? ` · ${healthy}/${members.length} healthy` : ''}`,
    icon: STATE_ICONS[state],
    contextValue: `sandbox:${cfg.provider}:${state}${artifacts.kubeconfig ? ':kube' : ''}${artifacts.inventory ? ':inventory' : ''}`,
    tooltip: [
      `**${name}** — ${cfg.provider} sandbox from \`${cfg.template}\`: ${shown}`,
      ...(status?.detail ? ['', status.detail] : []),
      ...(artifacts.kubeconfig ? ['', `kubeconfig: \`${artifacts.kubeconfig}\``] : []),
      ...(artifacts.inventory ? ['', `inventory: \`${artifacts.inventory}\``] : []),
    ].join('\n'),
    children: members.map((m) => memberRow(name, m)),
  };
}

function memberRow(sandbox: string, m: SandboxMember): Row {
  const icon =
    m.health === 'unhealthy' || m.state === 'exited'
      ? 'error|testing.iconFailed'
      : m.health === 'starting' || m.state === 'starting'
        ? 'sync~spin'
        : m.state === 'running'
          ? 'pass|testing.iconPassed'
          : 'circle-outline';
  return {
    id: `${sandbox}/${m.name}`,
    label: m.name,
    description: [m.state, m.health, m.addresses[0]].filter(Boolean).join(' · '),
    icon,
    contextValue: `member:${m.state}`,
    tooltip: [
      `**${m.name}**${m.role ? ` (${m.role})` : ''} — ${m.state}${m.health ? `, ${m.health}` : ''}`,
      ...(m.image ? ['', `image \`${m.image}\``] : []),
      ...(m.addresses.length ? ['', `addresses ${m.addresses.join(', ')}`] : []),
      ...(m.ports.length ? ['', `ports ${m.ports.join(', ')}`] : []),
    ].join('\n'),
  };
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
