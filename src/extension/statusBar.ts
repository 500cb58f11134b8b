import * as vscode from 'vscode';

/** What the environment indicator shows. Later work adds running sandboxes and PRODUCTION. */
export type EnvironmentState =
  | { kind: 'loading' }
  | { kind: 'noConfig' }
  | { kind: 'configInvalid'; file: string; problems: number }
  | { kind: 'noSandbox'; file: string; configured: number }
  /** A sandbox is up: the active one (the first running), with its members' health. */
  | {
      kind: 'sandbox';
      name: string;
      provider: string;
      healthy: number;
      total: number;
      degraded: boolean;
      others: number;
    }
  /** The active kube context (or another ambient target) resolves to production. */
  | { kind: 'production'; what: string; chain: string[]; rule: string };

/** Owns the status bar item; `set` decides text, colours, command and tooltip together. */
export class EnvironmentStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'infraSandbox.environment',
    vscode.StatusBarAlignment.Left,
    100,
  );

  private last: EnvironmentState = { kind: 'loading' };
  private companion: string | undefined;

  constructor() {
    this.item.name = 'Infra Sandbox environment';
    this.item.command = 'infraSandbox.status.menu';
    this.set({ kind: 'loading' });
    this.item.show();
  }

  /** Undefined when the companion is up (or not needed); else why it is down, said in the item. */
  setCompanionProblem(problem: string | undefined): void {
    this.companion = problem;
    this.set(this.last);
  }

  set(state: EnvironmentState): void {
    this.last = state;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = {
      enabledCommands: [
        'infraSandbox.workspace.init',
        'infraSandbox.config.open',
        'infraSandbox.log.show',
        'infraSandbox.companion.restart',
      ],
    };
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case 'loading':
        this.item.text = '$(loading~spin) Infra Sandbox';
        tooltip.appendMarkdown('Reading `infra-sandbox.yaml`…');
        break;
      case 'noConfig':
        this.item.text = '$(beaker) no sandbox';
        tooltip.appendMarkdown(
          '**Infra Sandbox** — no `infra-sandbox.yaml` in this workspace.\n\n[Initialize Workspace](command:infraSandbox.workspace.init)',
        );
        break;
      case 'configInvalid':
        this.item.text = '$(warning) no sandbox — config error';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tooltip.appendMarkdown(
          `**Infra Sandbox** — \`${state.file}\` has ${state.problems} problem${state.problems === 1 ? '' : 's'}; nothing runs until they are fixed.\n\n[Open configuration](command:infraSandbox.config.open)`,
        );
        break;
      case 'noSandbox':
        this.item.text = '$(beaker) no sandbox';
        tooltip.appendMarkdown(
          `**Infra Sandbox** — environment: sandbox, none running (${state.configured} configured in \`${state.file}\`).\n\n[Open configuration](command:infraSandbox.config.open) · [Show log](command:infraSandbox.log.show)`,
        );
        break;
      case 'sandbox':
        this.item.text = `$(${state.degraded ? 'warning' : 'vm-running'}) ${state.name} · ${state.healthy}/${state.total} healthy`;
        if (state.degraded) this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        tooltip.appendMarkdown(
          `**Infra Sandbox** — environment: sandbox **${state.name}** (${state.provider}), ${state.healthy} of ${state.total} members healthy${state.others ? `; ${state.others} more sandbox${state.others === 1 ? '' : 'es'} running` : ''}.\n\n[Show log](command:infraSandbox.log.show)`,
        );
        break;
      case 'production':
        this.item.text = `$(alert) PRODUCTION · ${state.what}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tooltip.appendMarkdown(
          `**Infra Sandbox — PRODUCTION.** \`${state.what}\` resolves to production (${state.rule}):\n\n`,
        );
        tooltip.appendCodeblock(state.chain.join('\n→ '), 'text');
        tooltip.appendMarkdown(
          '\nGuarded commands aimed at it are blocked. Switch the kube context to a sandbox, or open a sandbox shell.\n\n[Show log](command:infraSandbox.log.show)',
        );
        break;
    }
    if (this.companion) {
      this.item.text += ' $(debug-disconnect)';
      tooltip.appendMarkdown(
        `\n\n---\n\n$(debug-disconnect) **Companion down**: ${this.companion}. Sandbox and gate commands wait for it. [Restart companion](command:infraSandbox.companion.restart)`,
      );
    }
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
