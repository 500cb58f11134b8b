import * as vscode from 'vscode';
import { join } from 'node:path';
import { writeStarterConfig } from '../../core/config/starter';
import { CONFIG_FILE_NAME } from '../config/workspaceConfig';
import type { CommandContext } from './context';

/** "Infra Sandbox: Initialize Workspace" — writes the starter infra-sandbox.yaml (never overwrites) and opens it. */
export async function initWorkspace(ctx: CommandContext): Promise<void> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showWarningMessage('Infra Sandbox: open a folder first; infra-sandbox.yaml lives at its root.');
    return;
  }
  const folder =
    folders.length === 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick({ placeHolder: `Folder to write ${CONFIG_FILE_NAME} into` });
  if (!folder) return;
  if (folder.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage(`Infra Sandbox: ${folder.name} is not a local folder.`);
    return;
  }
  const target = vscode.Uri.joinPath(folder.uri, CONFIG_FILE_NAME);
  const written = await writeStarterConfig(join(ctx.extensionUri.fsPath, 'templates'), target.fsPath);
  ctx.log.info(written ? `wrote ${target.fsPath}` : `kept the existing ${target.fsPath}`);
  if (!written)
    void vscode.window.showInformationMessage(
      `Infra Sandbox: ${CONFIG_FILE_NAME} already exists; opened it unchanged.`,
    );
  await vscode.window.showTextDocument(target);
  await ctx.config.refresh();
}
