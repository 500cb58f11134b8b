/**
 * The sandbox lifecycle as operations (`sandbox.up|start|stop|destroy`, key = the sandbox's name):
 * registered by the companion and, when no companion runs, by the CLI on a manager of its own, so
 * both record the same ledger entries and report the same progress.
 */
import { dirname } from 'node:path';
import type { WorkspaceConfig } from '../core/config/types';
import { InfraSandboxError } from '../core/exec';
import { ExitCode } from '../core/exitCodes';
import type { OperationManager } from '../core/ops/operations';
import type { LifecycleVerb, SandboxService } from '../core/sandbox/service';

export const LIFECYCLE: readonly LifecycleVerb[] = ['up', 'start', 'stop', 'destroy'];

/** Adds the four lifecycle kinds to `manager`; `loadConfig` reads (and validates) the operation's config. */
export function registerSandboxOperations(
  manager: OperationManager,
  service: SandboxService,
  loadConfig: (file: string) => Promise<WorkspaceConfig>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const verb of LIFECYCLE) {
    manager.register(`sandbox.${verb}`, async (op) => {
      if (!op.configFile) {
        throw new InfraSandboxError(`sandbox.${verb} needs the infra-sandbox.yaml it belongs to`, ExitCode.usage);
      }
      const config = await loadConfig(op.configFile);
      return service.run(verb, {
        root: dirname(op.configFile),
        configFile: op.configFile,
        config,
        name: op.key,
        env,
        signal: op.signal,
        progress: (message, fraction) => op.progress(message, fraction),
        log: (line, stream) => op.log(line, stream),
      });
    });
  }
}
