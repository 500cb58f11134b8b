import * as vscode from 'vscode';
import type { CommandContext } from './commands/context';
import { initWorkspace } from './commands/initWorkspace';
import { openConfig } from './commands/openConfig';
import { statusMenu } from './commands/statusMenu';
import { validateConfig } from './commands/validateConfig';

/** The only place that registers commands (STYLE habit 3); one file per handler under commands/. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const handlers: Record<string, (ctx: CommandContext) => unknown> = {
    'infraSandbox.workspace.init': initWorkspace,
    'infraSandbox.config.open': openConfig,
    'infraSandbox.config.validate': validateConfig,
    'infraSandbox.log.show': (c) => c.log.show(),
    'infraSandbox.status.menu': statusMenu,
  };
  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async () => {
      try {
        await handler(ctx);
      } catch (err) {
        ctx.log.error(`${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        void vscode.window.showErrorMessage(`Infra Sandbox: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}
