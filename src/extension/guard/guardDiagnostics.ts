import * as vscode from 'vscode';
import { dirname } from 'node:path';
import type { WorkspaceConfig } from '../../core/config/types';
import type { GuardFinding } from '../../core/guard/fileFindings';
import { guardFileKind, usedBySandboxOrGate } from '../../core/guard/fileKind';
import type { Logger } from '../../core/log';
import { GuardFileFindings } from '../../protocol/companion';
import type { CompanionClient } from '../companion/companionClient';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';

const DEBOUNCE_MS = 400;

/**
 * Guard diagnostics (SPEC §1.4, §5): in open inventories, host_vars/group_vars files, kubeconfigs
 * and .tf/.tfvars files, each host or endpoint that resolves to production is marked at its line
 * with the chain that proves it — an Error when a sandbox or gate of the config uses the file, a
 * Warning otherwise. Names that cannot be resolved (blocked under `guard.onUnresolved: block`) are
 * Information. Runs after typing stops (debounced), off the typing path, in the companion (which
 * owns the resolver and its cache for every window); so only in a trusted workspace, where the
 * companion runs.
 */
export class GuardDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('infra-sandbox.guard');
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly generations = new Map<string, number>();
  constructor(
    private readonly config: WorkspaceConfigService,
    private readonly companion: CompanionClient,
    private readonly log: Logger,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      config.onDidChange(() => this.recheckAll()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.recheckAll()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('infraSandbox.guard.diagnostics')) this.recheckAll();
      }),
      companion.onDidChangeState((s) => {
        if (s.kind === 'up') this.recheckAll();
      }),
    );
    this.recheckAll();
  }

  /** Re-checks every open document now (the config, trust or a setting changed). */
  recheckAll(): void {
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  private schedule(doc: vscode.TextDocument, delayMs = DEBOUNCE_MS): void {
    if (doc.uri.scheme !== 'file') return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(doc);
      }, delayMs),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    this.collection.delete(uri);
  }

  private async check(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    const snapshot = this.config.current;
    const enabled = vscode.workspace.getConfiguration('infraSandbox.guard', doc.uri).get<boolean>('diagnostics', true);
    const text = doc.getText();
    if (!enabled || !configOf(snapshot) || snapshot.state !== 'loaded' || !guardFileKind(doc.uri.fsPath, text)) {
      this.collection.delete(doc.uri);
      return;
    }
    const rpc = this.companion.rpc;
    if (!rpc) return; // checked again when the companion is up
    const config = configOf(snapshot) as WorkspaceConfig;
    const root = rootOf(snapshot, doc.uri);
    try {
      const started = Date.now();
      const result = await rpc.sendRequest(GuardFileFindings, {
        file: doc.uri.fsPath,
        text,
        configFile: snapshot.uri.fsPath,
        overrides: this.unsavedTexts(doc.uri.fsPath),
        lookups: vscode.workspace.isTrusted,
      });
      if (this.generations.get(key) !== generation) return; // typed again meanwhile
      if (!result) {
        this.collection.delete(doc.uri);
        return;
      }
      const used = usedBySandboxOrGate(doc.uri.fsPath, root, config);
      const diagnostics = [
        ...result.findings.map((f) => toDiagnostic(doc, f, used)),
        ...result.problems
          .filter((p) => p.file === doc.uri.fsPath)
          .map((p) => {
            const line = Math.max(0, Math.min(p.line - 1, doc.lineCount - 1));
            const d = new vscode.Diagnostic(
              doc.lineAt(line).range,
              `${p.message} — the guard cannot read this file, so commands that use it are refused (exit 2).`,
              vscode.DiagnosticSeverity.Error,
            );
            d.source = 'infra-sandbox';
            d.code = 'guard.unreadable';
            return d;
          }),
      ];
      this.collection.set(doc.uri, diagnostics);
      this.log.debug(
        `guard diagnostics: ${vscode.workspace.asRelativePath(doc.uri)} (${result.kind}) → ${diagnostics.length} in ${Date.now() - started} ms`,
      );
    } catch (err) {
      this.log.warn(`guard diagnostics for ${doc.uri.fsPath} failed: ${(err as Error).message}`);
    }
  }

  /** Other unsaved guarded files, so a host_vars change shows in its inventory before saving. */
  private unsavedTexts(except: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of vscode.workspace.textDocuments) {
      if (!d.isDirty || d.uri.scheme !== 'file' || d.uri.fsPath === except) continue;
      const text = d.getText();
      if (guardFileKind(d.uri.fsPath, text)) out[d.uri.fsPath] = text;
    }
    return out;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function configOf(s: ConfigSnapshot): WorkspaceConfig | undefined {
  return s.state === 'loaded' && s.result.ok ? s.result.config : undefined;
}

function rootOf(s: ConfigSnapshot, uri: vscode.Uri): string {
  if (s.state === 'loaded') return dirname(s.uri.fsPath);
  return vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? dirname(uri.fsPath);
}

function toDiagnostic(doc: vscode.TextDocument, f: GuardFinding, used: string | undefined): vscode.Diagnostic {
  const line = Math.max(0, Math.min(f.line - 1, doc.lineCount - 1));
  const text = doc.lineAt(line).text;
  const start = Math.min(Math.max(0, f.column - 1), text.length);
  const end = f.length > 0 ? Math.min(start + f.length, text.length) : text.length;
  const range = new vscode.Range(line, start, line, end > start ? end : text.length);
  const severity =
    f.kind === 'unresolved'
      ? vscode.DiagnosticSeverity.Information
      : used
        ? vscode.DiagnosticSeverity.Error
        : vscode.DiagnosticSeverity.Warning;
  const message =
    f.kind === 'production' && used
      ? `${f.message} (this file is used by ${used}; its runs must stay off production)`
      : f.message;
  const d = new vscode.Diagnostic(range, message, severity);
  d.source = 'infra-sandbox';
  d.code = f.kind === 'unresolved' ? 'guard.unresolved' : 'guard.production';
  return d;
}
