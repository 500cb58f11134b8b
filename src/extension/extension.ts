import type * as vscode from 'vscode';
import type { CompanionState } from './companion/companionClient';
import { InfraSandbox } from './infraSandbox';

/** What the extension gives other extensions (and its own end-to-end tests). */
export interface InfraSandboxApi {
  /** The companion connection's state: stopped, starting, up (with pid and port) or down (with why). */
  companionState(): CompanionState | undefined;
}

export function activate(context: vscode.ExtensionContext): InfraSandboxApi {
  const started = performance.now();
  const infraSandbox = new InfraSandbox(context);
  context.subscriptions.push(infraSandbox);
  infraSandbox.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  return { companionState: () => infraSandbox.companion()?.current };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
