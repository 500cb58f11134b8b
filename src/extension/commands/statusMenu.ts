import * as vscode from 'vscode';
import type { CommandContext } from './context';

/** Clicking the environment indicator: what can be done from here. */
export async function statusMenu(ctx: CommandContext): Promise<void> {
  const hasConfig = ctx.config.current.state === 'loaded';
  const items: (vscode.QuickPickItem & { command: string })[] = [
    hasConfig
      ? { label: '$(go-to-file) Open Configuration', command: 'infraSandbox.config.open' }
      : { label: '$(new-file) Initialize Workspace', command: 'infraSandbox.workspace.init' },
    ...(hasConfig ? [{ label: '$(check) Validate Configuration', command: 'infraSandbox.config.validate' }] : []),
    { label: '$(output) Show Log', command: 'infraSandbox.log.show' },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Infra Sandbox',
    placeHolder: 'Environment: sandbox — no sandbox running',
  });
  if (pick) await vscode.commands.executeCommand(pick.command);
}
