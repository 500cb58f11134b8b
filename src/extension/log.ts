import * as vscode from 'vscode';
import type { Logger } from '../core/log';

/** The extension's one LogOutputChannel, behind the core's Logger interface. */
export function createLog(): Logger & vscode.Disposable & { show(): void } {
  const channel = vscode.window.createOutputChannel('Infra Sandbox', { log: true });
  return {
    trace: (m) => channel.trace(m),
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
    show: () => channel.show(true),
    dispose: () => channel.dispose(),
  };
}
