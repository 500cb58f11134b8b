import type * as vscode from 'vscode';
import { InfraSandbox } from './infraSandbox';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const infraSandbox = new InfraSandbox(context);
  context.subscriptions.push(infraSandbox);
  infraSandbox.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
