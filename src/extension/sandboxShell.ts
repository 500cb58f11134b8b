import * as vscode from 'vscode';
import type { SandboxStatus } from '../core/sandbox/types';

/**
 * The "Sandbox shell" terminal profile (SPEC §5): a shell whose KUBECONFIG, ANSIBLE_INVENTORY and
 * DOCKER_HOST are the chosen sandbox's, so kubectl, ansible and docker typed in it reach the sandbox.
 */
export async function sandboxShellProfile(sandboxes: SandboxStatus[]): Promise<vscode.TerminalProfile | undefined> {
  const up = sandboxes.filter((s) => s.state === 'running' || s.state === 'degraded');
  if (up.length === 0) {
    void vscode.window.showInformationMessage(
      'Infra Sandbox: no sandbox is running; bring one up from the Sandboxes view.',
    );
    return undefined;
  }
  const pick =
    up.length === 1
      ? up[0]
      : (
          await vscode.window.showQuickPick(
            up.map((s) => ({ label: s.name, description: s.provider, status: s })),
            { title: 'Sandbox shell for which sandbox?' },
          )
        )?.status;
  if (!pick) return undefined;
  const env: Record<string, string> = { INFRA_SANDBOX_SANDBOX: pick.name };
  if (pick.artifacts.kubeconfig) env.KUBECONFIG = pick.artifacts.kubeconfig;
  if (pick.artifacts.inventory) env.ANSIBLE_INVENTORY = pick.artifacts.inventory;
  if (pick.artifacts.dockerHost) env.DOCKER_HOST = pick.artifacts.dockerHost;
  return new vscode.TerminalProfile({ name: `sandbox: ${pick.name}`, env });
}
