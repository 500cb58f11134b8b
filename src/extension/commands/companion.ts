import * as vscode from 'vscode';
import type { CommandContext } from './context';

export async function restartCompanion(ctx: CommandContext): Promise<void> {
  const companion = ctx.companion();
  if (!companion) {
    void vscode.window.showWarningMessage(
      'Infra Sandbox: the companion runs only in a trusted workspace with a valid infra-sandbox.yaml.',
    );
    return;
  }
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Infra Sandbox: restarting the companion…' },
    () => companion.restart(),
  );
}

/** From an operation's inline button (its row carries the id), or from the palette (pick one). */
export async function cancelOperation(ctx: CommandContext, row?: { id?: string }): Promise<void> {
  const companion = ctx.companion();
  if (!companion || companion.current.kind !== 'up') {
    void vscode.window.showWarningMessage(
      'Infra Sandbox: the companion is not running, so there is nothing to cancel.',
    );
    return;
  }
  let id = row?.id;
  if (!id) {
    const active = companion.operationList.filter((o) => o.state === 'running' || o.state === 'queued');
    if (active.length === 0) {
      void vscode.window.showInformationMessage('Infra Sandbox: no operation is running or queued.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      active.map((o) => ({
        label: `${o.kind} ${o.key}`,
        description: `${o.state}${o.message ? ` · ${o.message}` : ''}`,
        id: o.id,
      })),
      { title: 'Cancel which operation?' },
    );
    id = pick?.id;
  }
  if (!id) return;
  const op = await companion.cancel(id);
  ctx.log.info(`cancel ${op.kind} ${op.key} (${op.id}): ${op.state}`);
}
