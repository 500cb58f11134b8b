import * as vscode from 'vscode';
import { WorkspaceConfigService, type ConfigSnapshot } from './config/workspaceConfig';
import type { AmbientState } from './guard/ambient';
import { loadLazy } from './loadLazy';
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
    let ambient: AmbientState = { production: undefined, checkedAt: 0 };
    this.disposables.push(
      log,
      config,
      statusBar,
      config.onDidChange((s) => {
        statusBar.set(environmentOf(s, ambient));
        void vscode.commands.executeCommand('setContext', 'infraSandbox:hasConfig', s.state === 'loaded');
      }),
      ...registerCommands({ extensionUri: context.extensionUri, config, log }),
      ...registerViews(context.extensionUri, config),
    );
    log.info(
      `Infra Sandbox ${String(context.extension.packageJSON.version)} activated; workspace trusted: ${vscode.workspace.isTrusted}`,
    );
    // After activation returns, never on its path: the guard's surfaces (loaded on demand), then the config.
    setImmediate(() => {
      Promise.resolve()
        .then(() => {
          const { startGuard } = loadLazy();
          if (this.disposed) return;
          const guard = startGuard(context, config, log);
          this.disposables.push(
            guard.disposable,
            guard.ambient.onDidChange((a) => {
              ambient = a;
              statusBar.set(environmentOf(config.current, a));
            }),
          );
        })
        .catch((err: unknown) => log.error(`the production guard's editor surfaces did not start: ${String(err)}`))
        .finally(() => void config.refresh());
    });
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
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
