import type * as vscode from 'vscode';
import type { WorkspaceConfigService } from '../config/workspaceConfig';
import type { Logger } from '../../core/log';
import type { SandboxStatus } from '../../core/sandbox/types';
import type { CompanionClient } from '../companion/companionClient';

/** What command handlers may use. */
export interface CommandContext {
  extensionUri: vscode.Uri;
  config: WorkspaceConfigService;
  log: Logger & { show(): void };
  /** The companion client once it is loaded (after activation) and wanted (trusted workspace, valid config). */
  companion: () => CompanionClient | undefined;
  /** The sandboxes' last known real state (the Sandboxes view's). */
  sandboxes: () => SandboxStatus[];
  refreshSandboxes: () => Promise<void>;
}
