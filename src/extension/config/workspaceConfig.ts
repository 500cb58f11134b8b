import * as vscode from 'vscode';
import type { ConfigProblem, ConfigResult } from '../../core/config/types';
import type { Logger } from '../../core/log';
import { loadLazy } from '../loadLazy';

export const CONFIG_FILE_NAME = 'infra-sandbox.yaml';

/** The workspace's config as last read: where it is (if anywhere) and what validation said. */
export type ConfigSnapshot =
  { state: 'loading' } | { state: 'missing' } | { state: 'loaded'; uri: vscode.Uri; result: ConfigResult };

/**
 * Reads `infra-sandbox.yaml` at the root of the workspace folders, validates it — also live while it
 * is edited, debounced — publishes its problems as diagnostics, and tells listeners.
 * Validation is static (no process, no network), so it runs in untrusted workspaces too.
 */
export class WorkspaceConfigService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ConfigSnapshot>();
  readonly onDidChange = this.changed.event;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('infra-sandbox');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.diagnostics];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private snapshot: ConfigSnapshot = { state: 'loading' };

  constructor(private readonly log: Logger) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.refresh()),
      watcher.onDidChange((uri) => this.onDiskChange(uri)),
      watcher.onDidDelete((uri) => {
        this.diagnostics.delete(uri);
        void this.refresh();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
      vscode.workspace.onDidOpenTextDocument((doc) => this.schedule(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // Back to what is on disk once the editor's unsaved text is gone.
        if (isConfig(doc.uri)) void this.validateUri(doc.uri);
      }),
    );
  }

  get current(): ConfigSnapshot {
    return this.snapshot;
  }

  /** Finds the root config again and re-validates it, plus every open `infra-sandbox.yaml`. */
  async refresh(): Promise<void> {
    const uri = await this.findRootConfig();
    if (!uri) {
      this.publish({ state: 'missing' });
    } else {
      await this.validateUri(uri);
    }
    for (const doc of vscode.workspace.textDocuments)
      if (isConfig(doc.uri) && doc.uri.toString() !== uri?.toString()) this.schedule(doc, 0);
  }

  /** Debounced: a writer truncates, then writes; reading in between would report an empty file. */
  private onDiskChange(uri: vscode.Uri): void {
    const key = `disk:${uri.toString()}`;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        if (!open || !open.isDirty) void this.validateUri(uri);
      }, 150),
    );
  }

  private schedule(doc: vscode.TextDocument, delayMs = 250): void {
    if (!isConfig(doc.uri)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.validateText(doc.uri, doc.getText());
      }, delayMs),
    );
  }

  private async validateUri(uri: vscode.Uri): Promise<void> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return this.validateText(uri, open.getText());
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (err) {
      this.log.warn(`cannot read ${uri.fsPath}: ${(err as Error).message}`);
      return this.refreshIfRoot(uri);
    }
    return this.validateText(uri, text);
  }

  private async validateText(uri: vscode.Uri, text: string): Promise<void> {
    // Loaded on first use: the validator (yaml + the schema's checks) stays off the activation path.
    const { validateConfigText } = loadLazy();
    const result = validateConfigText(uri.fsPath, text);
    this.diagnostics.set(uri, result.ok ? [] : result.problems.map(toDiagnostic));
    if (!result.ok) this.log.info(`${uri.fsPath}: ${result.problems.length} problem(s)`);
    if (this.isRoot(uri)) this.publish({ state: 'loaded', uri, result });
  }

  private async refreshIfRoot(uri: vscode.Uri): Promise<void> {
    if (this.isRoot(uri)) await this.refresh();
  }

  private isRoot(uri: vscode.Uri): boolean {
    return (vscode.workspace.workspaceFolders ?? []).some(
      (f) => vscode.Uri.joinPath(f.uri, CONFIG_FILE_NAME).toString() === uri.toString(),
    );
  }

  private async findRootConfig(): Promise<vscode.Uri | undefined> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const candidate = vscode.Uri.joinPath(folder.uri, CONFIG_FILE_NAME);
      try {
        await vscode.workspace.fs.stat(candidate);
        return candidate;
      } catch {
        // Not in this folder.
      }
    }
    return undefined;
  }

  private publish(snapshot: ConfigSnapshot): void {
    this.snapshot = snapshot;
    this.changed.fire(snapshot);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function isConfig(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && uri.path.endsWith(`/${CONFIG_FILE_NAME}`);
}

function toDiagnostic(p: ConfigProblem): vscode.Diagnostic {
  const range = new vscode.Range(p.line - 1, p.column - 1, p.endLine - 1, Math.max(p.endColumn - 1, p.column));
  const d = new vscode.Diagnostic(range, p.key ? `${p.key}: ${p.message}` : p.message, vscode.DiagnosticSeverity.Error);
  d.source = 'infra-sandbox';
  return d;
}
