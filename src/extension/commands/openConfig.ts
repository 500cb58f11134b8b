import * as vscode from 'vscode';
import type { CommandContext } from './context';

/** "Infra Sandbox: Open Configuration" — opens infra-sandbox.yaml, or offers to create it. */
export async function openConfig(ctx: CommandContext): Promise<void> {
  const snapshot = ctx.config.current;
  if (snapshot.state === 'loaded') {
    await vscode.window.showTextDocument(snapshot.uri);
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    'Infra Sandbox: this workspace has no infra-sandbox.yaml.',
    'Initialize Workspace',
  );
  if (choice) await vscode.commands.executeCommand('infraSandbox.workspace.init');
}
