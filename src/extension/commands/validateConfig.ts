import * as vscode from 'vscode';
import type { CommandContext } from './context';

/** "Infra Sandbox: Validate Configuration" — re-reads infra-sandbox.yaml and reports the result. */
export async function validateConfig(ctx: CommandContext): Promise<void> {
  await ctx.config.refresh();
  const s = ctx.config.current;
  if (s.state !== 'loaded') {
    void vscode.window.showWarningMessage('Infra Sandbox: no infra-sandbox.yaml at the root of this workspace.');
  } else if (s.result.ok) {
    void vscode.window.showInformationMessage(`Infra Sandbox: ${vscode.workspace.asRelativePath(s.uri)} is valid.`);
  } else {
    const n = s.result.problems.length;
    const choice = await vscode.window.showErrorMessage(
      `Infra Sandbox: ${vscode.workspace.asRelativePath(s.uri)} has ${n} problem${n === 1 ? '' : 's'}.`,
      'Show Problems',
    );
    if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
  }
}
