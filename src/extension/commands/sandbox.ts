import * as vscode from 'vscode';
import type { SandboxStatus } from '../../core/sandbox/types';
import type { OperationInfo } from '../../protocol/companion';
import type { CommandContext } from './context';

type Verb = 'up' | 'start' | 'stop' | 'destroy';
const TITLES: Record<Verb, string> = {
  up: 'Bringing up',
  start: 'Starting',
  stop: 'Stopping',
  destroy: 'Destroying',
};

/** Rows of the Sandboxes view carry `id`: the sandbox name, or `sandbox/member`. */
interface RowArg {
  id?: string;
}

/** Which sandbox: the row's, else the one picked from the config's. */
async function pickSandbox(ctx: CommandContext, row: RowArg | undefined, title: string): Promise<string | undefined> {
  if (row?.id) return row.id.split('/')[0];
  const s = ctx.config.current;
  const names = s.state === 'loaded' && s.result.ok ? Object.keys(s.result.config.sandboxes ?? {}) : [];
  if (names.length === 0) {
    void vscode.window.showInformationMessage('Infra Sandbox: no sandboxes are declared in infra-sandbox.yaml.');
    return undefined;
  }
  return names.length === 1 ? names[0] : vscode.window.showQuickPick(names, { title });
}

function configFile(ctx: CommandContext): string {
  const s = ctx.config.current;
  if (s.state !== 'loaded' || !s.result.ok) throw new Error('infra-sandbox.yaml is missing or has problems');
  return s.uri.fsPath;
}

/** up / start / stop / destroy as a companion operation, with a cancellable progress notification. */
export function lifecycle(verb: Verb) {
  return async (ctx: CommandContext, row?: RowArg): Promise<void> => {
    const companion = ctx.companion();
    if (!companion || companion.current.kind !== 'up') {
      void vscode.window.showWarningMessage('Infra Sandbox: the companion is not running; sandboxes need it.');
      return;
    }
    const name = await pickSandbox(ctx, row, `${TITLES[verb]} which sandbox?`);
    if (!name) return;
    if (verb === 'destroy') {
      const ok = await vscode.window.showWarningMessage(
        `Destroy sandbox ${name}? Its containers, networks, volumes (or cluster, or VMs) and their data are removed.`,
        { modal: true },
        'Destroy',
      );
      if (ok !== 'Destroy') return;
    }
    const op = await companion.startOperation({ kind: `sandbox.${verb}`, key: name, configFile: configFile(ctx) });
    const final = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${TITLES[verb]} sandbox ${name}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => void companion.cancel(op.id).catch(() => undefined));
        let last = '';
        const sub = companion.onDidChangeOperations((ops) => {
          const cur = ops.find((o) => o.id === op.id);
          if (cur?.message && cur.message !== last) {
            last = cur.message;
            progress.report({ message: cur.message });
          }
        });
        try {
          return await companion.waitFor(op.id);
        } finally {
          sub.dispose();
        }
      },
    );
    report(final);
  };
}

function report(op: OperationInfo): void {
  const result = op.result as { timeToReadyMs?: number } | undefined;
  if (op.state === 'succeeded') {
    const ready =
      result?.timeToReadyMs !== undefined ? ` — ready in ${(result.timeToReadyMs / 1000).toFixed(1)} s` : '';
    void vscode.window.showInformationMessage(
      `Infra Sandbox: ${op.kind.replace('sandbox.', '')} ${op.key} done${ready}.`,
    );
  } else if (op.state === 'cancelled') {
    void vscode.window.showInformationMessage(`Infra Sandbox: ${op.kind} ${op.key} was cancelled.`);
  } else {
    void vscode.window.showErrorMessage(
      `Infra Sandbox: ${op.kind} ${op.key} ${op.state}: ${op.error ?? 'no reason given'}`,
    );
  }
}

/** Logs in a terminal: `infra-sandbox sandbox logs NAME --follow` with VS Code's runtime. */
export async function showLogs(ctx: CommandContext, row?: RowArg): Promise<void> {
  const name = await pickSandbox(ctx, row, 'Logs of which sandbox?');
  if (!name) return;
  const member = row?.id?.includes('/') ? row.id.split('/')[1] : undefined;
  const terminal = vscode.window.createTerminal({
    name: `logs: ${name}${member ? `/${member}` : ''}`,
    shellPath: process.execPath,
    shellArgs: [
      vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'cli.js').fsPath,
      '--config',
      configFile(ctx),
      'sandbox',
      'logs',
      name,
      '--follow',
      ...(member ? ['--member', member] : []),
    ],
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
  terminal.show();
}

/** An interactive shell in the member (or the sandbox's first one): `docker exec -it`, `multipass shell`. */
export async function openShell(ctx: CommandContext, row?: RowArg): Promise<void> {
  const companion = ctx.companion();
  if (!companion || companion.current.kind !== 'up') {
    void vscode.window.showWarningMessage('Infra Sandbox: the companion is not running.');
    return;
  }
  const name = await pickSandbox(ctx, row, 'Shell in which sandbox?');
  if (!name) return;
  const member = row?.id?.includes('/') ? row.id.split('/')[1] : undefined;
  const argv = await companion.sandboxShell(configFile(ctx), name, member);
  const terminal = vscode.window.createTerminal({
    name: `shell: ${name}${member ? `/${member}` : ''}`,
    shellPath: argv[0],
    shellArgs: argv.slice(1),
  });
  terminal.show();
}

function statusOf(ctx: CommandContext, name: string): SandboxStatus | undefined {
  return ctx.sandboxes().find((s) => s.name === name);
}

export async function copyKubeconfigPath(ctx: CommandContext, row?: RowArg): Promise<void> {
  const name = await pickSandbox(ctx, row, 'Kubeconfig of which sandbox?');
  const file = name ? statusOf(ctx, name)?.artifacts.kubeconfig : undefined;
  if (!file) {
    void vscode.window.showInformationMessage(
      `Infra Sandbox: ${name ?? 'that sandbox'} has no kubeconfig (k3d sandboxes do, once up).`,
    );
    return;
  }
  await vscode.env.clipboard.writeText(file);
  void vscode.window.showInformationMessage(`Infra Sandbox: copied ${file}`);
}

export async function openInventory(ctx: CommandContext, row?: RowArg): Promise<void> {
  const name = await pickSandbox(ctx, row, 'Inventory of which sandbox?');
  const file = name ? statusOf(ctx, name)?.artifacts.inventory : undefined;
  if (!file) {
    void vscode.window.showInformationMessage(
      `Infra Sandbox: ${name ?? 'that sandbox'} has no generated inventory yet.`,
    );
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

export async function refreshSandboxes(ctx: CommandContext): Promise<void> {
  await ctx.refreshSandboxes();
}
