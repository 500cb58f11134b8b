import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { CompanionClient } from '../companion/companionClient';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import { AmbientEnvironment } from './ambient';
import { GuardDiagnostics } from './guardDiagnostics';
import { TerminalShims } from './terminalShims';

/**
 * The guard's editor surfaces: terminal shims, diagnostics and the ambient environment of the
 * status bar. Diagnostics and the environment are decided by the companion (the guard's parsers
 * and resolver live there, not in the extension host); loaded after activation.
 */
export function startGuard(
  context: vscode.ExtensionContext,
  config: WorkspaceConfigService,
  companion: CompanionClient,
  log: Logger,
): { ambient: AmbientEnvironment; disposable: vscode.Disposable } {
  const ambient = new AmbientEnvironment(config, companion, log);
  const shims = new TerminalShims(context, config, log);
  const diagnostics = new GuardDiagnostics(config, companion, log);
  return { ambient, disposable: vscode.Disposable.from(diagnostics, shims, ambient) };
}
