import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_FILE, runtimeDir } from '../../companion/runtime';
import type { Logger } from '../../core/log';
import { CONFIG_ENV, SHIM_DIR_ENV, writeShims } from '../../core/guard/shims';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';

const BASH = '/bin/bash';

export const DEFAULT_GUARDED = [
  'ansible',
  'ansible-playbook',
  'ssh',
  'scp',
  'rsync',
  'kubectl',
  'helm',
  'tofu',
  'terraform',
  'psql',
  'pg_dump',
  'vault',
  'docker',
];

/**
 * Guarded integrated terminals (SPEC §5): a folder of small shims, one per `guard.commands` entry,
 * prepended to PATH through the EnvironmentVariableCollection, so the commands typed in a terminal
 * go through `infra-sandbox guard exec` first. Only in a trusted workspace; the setting
 * `infraSandbox.guard.terminalShims` turns it off.
 */
export class TerminalShims implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly shimDir: string;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: WorkspaceConfigService,
    private readonly log: Logger,
  ) {
    this.shimDir = join(context.globalStorageUri.fsPath, 'shims');
    this.disposables.push(
      config.onDidChange((s) => void this.update(s)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('infraSandbox.guard.terminalShims') ||
          e.affectsConfiguration('infraSandbox.guard.inventoryParser')
        )
          void this.update(config.current);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.update(config.current)),
    );
    if (config.current.state !== 'loading') void this.update(config.current);
  }

  get folder(): string {
    return this.shimDir;
  }

  private async update(snapshot: ConfigSnapshot): Promise<void> {
    const collection = this.context.environmentVariableCollection;
    const enabled = vscode.workspace.getConfiguration('infraSandbox.guard').get<boolean>('terminalShims', true);
    if (!enabled || !vscode.workspace.isTrusted || snapshot.state !== 'loaded' || !snapshot.result.ok) {
      if (collection.get('PATH')) this.log.info('terminal shims off for new terminals');
      collection.clear();
      return;
    }
    const commands = snapshot.result.config.guard?.commands ?? DEFAULT_GUARDED;
    try {
      const written = await writeShims(this.shimDir, commands, {
        executable: process.execPath,
        cli: vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'cli.js').fsPath,
        electron: typeof process.versions.electron === 'string',
        inventoryParser: vscode.workspace
          .getConfiguration('infraSandbox.guard')
          .get<'auto' | 'builtin' | 'ansible'>('inventoryParser', 'auto'),
        // With bash, a running companion decides without a new Node process per command.
        ...(existsSync(BASH) ? { fastPath: { bash: BASH, companionEnv: join(runtimeDir(), ENV_FILE) } } : {}),
      });
      collection.description = `Infra Sandbox: ${written.join(', ')} typed in this terminal go through the production guard first (blocked commands never start). Setting: infraSandbox.guard.terminalShims.`;
      collection.persistent = false;
      collection.prepend('PATH', `${this.shimDir}:`);
      collection.replace(SHIM_DIR_ENV, this.shimDir);
      collection.replace(CONFIG_ENV, snapshot.uri.fsPath);
      this.log.info(`terminal shims for ${written.length} commands in ${this.shimDir}`);
    } catch (err) {
      collection.clear();
      this.log.error(`could not write the terminal shims: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
