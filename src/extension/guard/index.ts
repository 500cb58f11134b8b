import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import { AmbientEnvironment } from './ambient';
import { GuardDiagnostics } from './guardDiagnostics';
import { TerminalShims } from './terminalShims';

/**
 * The guard's editor surfaces: terminal shims, diagnostics and the ambient environment of the
 * status bar. Loaded after activation (a dynamic import), so the guard's parsers and resolver —
 * half the bundle — never weigh on VS Code's activation time.
 */
export function startGuard(
  context: vscode.ExtensionContext,
  config: WorkspaceConfigService,
  log: Logger,
): { ambient: AmbientEnvironment; disposable: vscode.Disposable } {
  const ambient = new AmbientEnvironment(config, log);
  const shims = new TerminalShims(context, config, log);
  const diagnostics = new GuardDiagnostics(config, log);
  return { ambient, disposable: vscode.Disposable.from(diagnostics, shims, ambient) };
}
