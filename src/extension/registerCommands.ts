import * as vscode from 'vscode';
import type { CommandContext } from './commands/context';
import { cancelOperation, restartCompanion } from './commands/companion';
import { initWorkspace } from './commands/initWorkspace';
import {
  copyKubeconfigPath,
  lifecycle,
  openInventory,
  openShell,
  refreshSandboxes,
  showLogs,
} from './commands/sandbox';
import { openConfig } from './commands/openConfig';
import { statusMenu } from './commands/statusMenu';
import { validateConfig } from './commands/validateConfig';

/** The only place that registers commands (STYLE habit 3); one file per handler under commands/. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const handlers: Record<string, (ctx: CommandContext, ...args: never[]) => unknown> = {
    'infraSandbox.workspace.init': initWorkspace,
    'infraSandbox.config.open': openConfig,
    'infraSandbox.config.validate': validateConfig,
    'infraSandbox.log.show': (c) => c.log.show(),
    'infraSandbox.status.menu': statusMenu,
    'infraSandbox.companion.restart': restartCompanion,
    'infraSandbox.operation.cancel': cancelOperation,
    'infraSandbox.sandbox.up': lifecycle('up'),
    'infraSandbox.sandbox.start': lifecycle('start'),
    'infraSandbox.sandbox.stop': lifecycle('stop'),
    'infraSandbox.sandbox.destroy': lifecycle('destroy'),
    'infraSandbox.sandbox.logs': showLogs,
    'infraSandbox.sandbox.shell': openShell,
    'infraSandbox.sandbox.copyKubeconfigPath': copyKubeconfigPath,
    'infraSandbox.sandbox.openInventory': openInventory,
    'infraSandbox.sandbox.refresh': refreshSandboxes,
  };
  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        await handler(ctx, ...args);
      } catch (err) {
        ctx.log.error(`${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        void vscode.window.showErrorMessage(`Infra Sandbox: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}
