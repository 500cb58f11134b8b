import * as vscode from 'vscode';
import { WorkspaceConfigService, type ConfigSnapshot } from './config/workspaceConfig';
import { AmbientEnvironment, type AmbientState } from './guard/ambient';
import { GuardDiagnostics } from './guard/guardDiagnostics';
import { TerminalShims } from './guard/terminalShims';
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
    const ambient = new AmbientEnvironment(config, log);
    const shims = new TerminalShims(context, config, log);
    const guardDiagnostics = new GuardDiagnostics(config, log);
    this.disposables.push(
      log,
      config,
      statusBar,
      ambient,
      shims,
      guardDiagnostics,
      config.onDidChange((s) => {
        statusBar.set(environmentOf(s, ambient.current));
        void vscode.commands.executeCommand('setContext', 'infraSandbox:hasConfig', s.state === 'loaded');
      }),
      ambient.onDidChange((a) => statusBar.set(environmentOf(config.current, a))),
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

function environmentOf(s: ConfigSnapshot, ambient: AmbientState): EnvironmentState {
  if (s.state === 'loading') return { kind: 'loading' };
  if (s.state === 'loaded' && s.result.ok && ambient.production) {
    const t = ambient.production;
    return { kind: 'production', what: t.name, chain: t.chain, rule: t.rule ?? 'production' };
  }
  if (s.state === 'missing') return { kind: 'noConfig' };
  const file = vscode.workspace.asRelativePath(s.uri);
  return s.result.ok
    ? { kind: 'noSandbox', file, configured: Object.keys(s.result.config.sandboxes ?? {}).length }
    : { kind: 'configInvalid', file, problems: s.result.problems.length };
}
