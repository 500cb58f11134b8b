import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DASHBOARD_COMMANDS, type DashboardToExtension, type ExtensionToDashboard } from '../../protocol/webview';
import type { ConfigSnapshot, WorkspaceConfigService } from '../config/workspaceConfig';

/** The Dashboard webview view: strict CSP with a nonce, local resources only, typed messages. */
export class DashboardViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'infraSandbox.dashboard';
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly config: WorkspaceConfigService,
  ) {
    this.disposables.push(config.onDidChange((s) => this.post(stateMessage(s))));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    view.webview.html = this.html(view.webview, dist);
    this.disposables.push(
      view.webview.onDidReceiveMessage((message: DashboardToExtension) => {
        if (message.type === 'ready') this.post(stateMessage(this.config.current));
        else if (message.type === 'runCommand' && DASHBOARD_COMMANDS.includes(message.command)) {
          void vscode.commands.executeCommand(message.command);
        }
      }),
      view.onDidDispose(() => (this.view = undefined)),
    );
  }

  private post(message: ExtensionToDashboard): void {
    void this.view?.webview.postMessage(message);
  }

  private html(webview: vscode.Webview, dist: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'dashboard.js'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Infra Sandbox dashboard</title>
</head>
<body>
<main id="root" aria-live="polite">Loading…</main>
<script type="module" nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function stateMessage(snapshot: ConfigSnapshot): ExtensionToDashboard {
  if (snapshot.state !== 'loaded') {
    return { type: 'state', configFile: undefined, configValid: false, problems: 0, sandboxes: [] };
  }
  const { result } = snapshot;
  return {
    type: 'state',
    configFile: snapshot.uri.fsPath,
    configValid: result.ok,
    problems: result.ok ? 0 : result.problems.length,
    sandboxes: result.ok
      ? Object.entries(result.config.sandboxes ?? {}).map(([name, s]) => ({
          name,
          provider: s.provider,
          template: s.template,
        }))
      : [],
  };
}
