import type * as vscode from 'vscode';
import { InfraSandbox } from './infraSandbox';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(new InfraSandbox(context));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
