import * as vscode from 'vscode';
import { WorkspaceConfigService, type ConfigSnapshot } from './config/workspaceConfig';
import { join } from 'node:path';
import type { CompanionClient, CompanionState } from './companion/companionClient';
import type { AmbientState } from './guard/ambient';
import { loadLazy } from './loadLazy';
import { createLog } from './log';
import { registerCommands } from './registerCommands';
import { registerViews } from './registerViews';
import type { SandboxStatus } from '../core/sandbox/types';
import { sandboxShellProfile } from './sandboxShell';
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
    let companion: CompanionClient | undefined;
    this.companion = () => companion;
    const views = registerViews(context.extensionUri, config);
    this.disposables.push(
      log,
      config,
      statusBar,
      config.onDidChange((s) => {
        statusBar.set(environmentOf(s, ambient, views.sandboxes.sandboxStatuses));
        void vscode.commands.executeCommand('setContext', 'infraSandbox:hasConfig', s.state === 'loaded');
      }),
      ...registerCommands({
        extensionUri: context.extensionUri,
        config,
        log,
        companion: () => companion,
        sandboxes: () => views.sandboxes.sandboxStatuses,
        refreshSandboxes: () => views.sandboxes.refresh(),
      }),
      ...views.disposables,
      views.sandboxes.onDidChangeTreeData(() =>
        statusBar.set(environmentOf(config.current, ambient, views.sandboxes.sandboxStatuses)),
      ),
      vscode.window.registerTerminalProfileProvider('infraSandbox.sandboxShell', {
        provideTerminalProfile: () => sandboxShellProfile(views.sandboxes.sandboxStatuses),
      }),
    );
    log.info(
      `Infra Sandbox ${String(context.extension.packageJSON.version)} activated; workspace trusted: ${vscode.workspace.isTrusted}`,
    );
    // After activation returns, never on its path: the guard's surfaces (loaded on demand), then the config.
    setImmediate(() => {
      Promise.resolve()
        .then(() => {
          const { startGuard, CompanionClient } = loadLazy();
          if (this.disposed) return;
          // The companion: wanted while the workspace is trusted and has a valid config.
          const client = new CompanionClient(
            vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath,
            join(context.globalStorageUri.fsPath, 'companion.log'),
            log,
          );
          companion = client;
          const want = (s: ConfigSnapshot) => {
            if (vscode.workspace.isTrusted && s.state === 'loaded' && s.result.ok) void client.start();
          };
          const guard = startGuard(context, config, client, log);
          this.disposables.push(
            client,
            views.sandboxes.attach(client),
            client.onDidChangeState((c) => statusBar.setCompanionProblem(companionProblem(c))),
            config.onDidChange(want),
            vscode.workspace.onDidGrantWorkspaceTrust(() => want(config.current)),
            guard.disposable,
            guard.ambient.onDidChange((a) => {
              ambient = a;
              statusBar.set(environmentOf(config.current, a, views.sandboxes.sandboxStatuses));
            }),
          );
        })
        .catch((err: unknown) => log.error(`the production guard's editor surfaces did not start: ${String(err)}`))
        .finally(() => void config.refresh());
    });
  }

  private disposed = false;
  /** For the extension's API (tests): the companion client once it exists. */
  readonly companion: () => CompanionClient | undefined;

  dispose(): void {
    this.disposed = true;
    vscode.Disposable.from(...this.disposables.reverse()).dispose();
  }
}

function environmentOf(s: ConfigSnapshot, ambient: AmbientState, sandboxes: SandboxStatus[] = []): EnvironmentState {
  if (s.state === 'loading') return { kind: 'loading' };
  if (s.state === 'loaded' && s.result.ok && ambient.production) {
    const t = ambient.production;
    return { kind: 'production', what: t.name, chain: t.chain, rule: t.rule ?? 'production' };
  }
  if (s.state === 'missing') return { kind: 'noConfig' };
  const up = sandboxes.filter((x) => x.state === 'running' || x.state === 'degraded');
  if (s.result.ok && up.length > 0) {
    const active = up[0];
    const healthy = active.members.filter(
      (m) => m.state === 'running' && m.health !== 'unhealthy' && m.health !== 'starting',
    ).length;
    return {
      kind: 'sandbox',
      name: active.name,
      provider: active.provider,
      healthy,
      total: active.members.length,
      degraded: active.state === 'degraded',
      others: up.length - 1,
    };
  }
  const file = vscode.workspace.asRelativePath(s.uri);
  return s.result.ok
    ? { kind: 'noSandbox', file, configured: Object.keys(s.result.config.sandboxes ?? {}).length }
    : { kind: 'configInvalid', file, problems: s.result.problems.length };
}

function companionProblem(c: CompanionState): string | undefined {
  if (c.kind !== 'down') return undefined;
  return `${c.reason}; trying again in ${Math.max(1, Math.round(c.retryInMs / 1000))} s`;
}
