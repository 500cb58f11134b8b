import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ResolvedTarget } from '../../core/guard/types';
import type { Logger } from '../../core/log';
import { GuardEnvironment } from '../../protocol/companion';
import type { CompanionClient } from '../companion/companionClient';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';

/** What the environment indicator needs to know beyond the config: does the ambient context reach production? */
export interface AmbientState {
  production: ResolvedTarget | undefined;
  checkedAt: number;
}

/**
 * Decides, from *resolved* targets, whether the editor's ambient context — the active kube
 * context of KUBECONFIG (or ~/.kube/config) and the production.env variables — is production.
 * The companion decides (with this window's environment); re-decided when the config or a
 * kubeconfig file changes, and when the companion comes up. Only in a trusted workspace.
 */
export class AmbientEnvironment implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AmbientState>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watchers: vscode.Disposable[] = [];
  private state: AmbientState = { production: undefined, checkedAt: 0 };
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: WorkspaceConfigService,
    private readonly companion: CompanionClient,
    private readonly log: Logger,
  ) {
    this.disposables.push(
      config.onDidChange(() => this.schedule()),
      companion.onDidChangeState((s) => {
        if (s.kind === 'up') this.schedule(0);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
    );
    this.watchKubeconfigs();
    if (config.current.state !== 'loading') this.schedule(0);
  }

  get current(): AmbientState {
    return this.state;
  }

  /** The kubeconfig files kubectl would read, in order. */
  static kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
    const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.length > 0);
    return fromEnv.length > 0 ? fromEnv : [join(env.HOME ?? homedir(), '.kube', 'config')];
  }

  private watchKubeconfigs(): void {
    vscode.Disposable.from(...this.watchers).dispose();
    this.watchers = AmbientEnvironment.kubeconfigFiles().map((file) => {
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(join(file, '..')), file.split('/').pop() ?? 'config'),
      );
      const again = () => this.schedule();
      return vscode.Disposable.from(w, w.onDidChange(again), w.onDidCreate(again), w.onDidDelete(again));
    });
  }

  schedule(delayMs = 200): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(this.config.current), delayMs);
  }

  private async check(snapshot: ConfigSnapshot): Promise<void> {
    const generation = ++this.generation;
    let production: ResolvedTarget | undefined;
    const rpc = this.companion.rpc;
    if (vscode.workspace.isTrusted && snapshot.state === 'loaded' && snapshot.result.ok && rpc) {
      try {
        const folder = vscode.workspace.getWorkspaceFolder(snapshot.uri)?.uri.fsPath ?? join(snapshot.uri.fsPath, '..');
        const env = Object.fromEntries(
          Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
        );
        const result = await rpc.sendRequest(GuardEnvironment, { cwd: folder, env, configFile: snapshot.uri.fsPath });
        production = result.production ?? undefined;
        this.log.debug(`environment: ${result.reason}`);
      } catch (err) {
        this.log.warn(`could not decide the environment: ${(err as Error).message}`);
      }
    }
    if (generation !== this.generation) return; // a newer check is under way
    this.state = { production, checkedAt: Date.now() };
    this.changed.fire(this.state);
  }

  dispose(): void {
    clearTimeout(this.timer);
    vscode.Disposable.from(...this.watchers, ...this.disposables).dispose();
  }
}
