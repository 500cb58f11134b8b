import { ComposeProvider } from './compose';
import { K3dProvider } from './k3d';
import { MultipassProvider } from './multipass';
import type { Providers } from './service';

export { SandboxService, checkName, SANDBOX_NAME, type LifecycleVerb, type Providers } from './service';
export * from './types';

/** The real providers: compose (docker compose v2, docker-compose v1 or podman compose), k3d, multipass. */
export function createProviders(): Providers {
  return { compose: new ComposeProvider(), k3d: new K3dProvider(), multipass: new MultipassProvider() };
}
