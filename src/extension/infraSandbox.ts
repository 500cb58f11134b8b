import * as vscode from 'vscode';
import { WorkspaceConfigService, type ConfigSnapshot } from './config/workspaceConfig';
import { createLog } from './log';
import { registerCommands } from './registerCommands';
import { registerViews } from './registerViews';
import { EnvironmentStatusBar, type EnvironmentState } from './statusBar';

/** Owns everything the extension creates; disposing it undoes activation. */
export class InfraSandbox implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly log = createLog();

  constructor(context: vscode.ExtensionContext) {
    const log = this.log;
    const config = new WorkspaceConfigService(log);
    const statusBar = new EnvironmentStatusBar();
    this.disposables.push(
      log,
      config,
      statusBar,
      config.onDidChange((s) => {
        statusBar.set(environmentOf(s));
        void vscode.commands.executeCommand('setContext', 'infraSandbox:hasConfig', s.state === 'loaded');
      }),
      ...registerCommands({ extensionUri: context.extensionUri, config, log }),
      ...registerViews(context.extensionUri, config),
    );
    log.info(
      `Infra Sandbox ${String(context.extension.packageJSON.version)} activated; workspace trusted: ${vscode.workspace.isTrusted}`,
    );
    // Read the config after activation returns, never on its path.
    setImmediate(() => void config.refresh());
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables.reverse()).dispose();
  }
}

function environmentOf(s: ConfigSnapshot): EnvironmentState {
  if (s.state === 'loading') return { kind: 'loading' };
  if (s.state === 'missing') return { kind: 'noConfig' };
  const file = vscode.workspace.asRelativePath(s.uri);
  return s.result.ok
    ? { kind: 'noSandbox', file, configured: Object.keys(s.result.config.sandboxes ?? {}).length }
    : { kind: 'configInvalid', file, problems: s.result.problems.length };
}
