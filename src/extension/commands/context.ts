import type * as vscode from 'vscode';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import type { Logger } from '../../core/log';

/** What command handlers may use. */
export interface CommandContext {
  extensionUri: vscode.Uri;
  config: WorkspaceConfigService;
  log: Logger & { show(): void };
}
