/**
 * Messages between the extension and the Dashboard webview. Both sides switch on `type`, so a new
 * message kind is a compile error until both handle it.
 */
export interface DashboardSandbox {
  name: string;
  provider: string;
  template: string;
}

export type ExtensionToDashboard = {
  type: 'state';
  configFile: string | undefined;
  configValid: boolean;
  problems: number;
  sandboxes: DashboardSandbox[];
};

export type DashboardToExtension = { type: 'ready' } | { type: 'runCommand'; command: DashboardCommand };

/** The only commands the dashboard may ask the extension to run. */
export type DashboardCommand = 'infraSandbox.workspace.init' | 'infraSandbox.config.open';

export const DASHBOARD_COMMANDS: readonly DashboardCommand[] = [
  'infraSandbox.workspace.init',
  'infraSandbox.config.open',
];
