/** The workspace configuration `infra-sandbox.yaml` (SPEC §3), as validated by schema/infra-sandbox.schema.json. */
export type ProviderKind = 'k3d' | 'compose' | 'multipass';

export interface SandboxConfig {
  provider: ProviderKind;
  template: string;
  groups?: Record<string, number[]>;
}

export interface IdempotenceGateConfig {
  playbook: string;
  sandbox?: string;
  inventory?: string;
  mode?: 'check' | 'converge-then-check' | 'second-run';
  exempt?: { task: string; reason: string; expires: string }[];
}

export interface PlanGateConfig {
  dir: string;
  sandbox?: string;
  expect?: 'no-changes' | 'any';
  dns?: { allowedZones?: string[] };
  protect?: string[];
}

export interface WorkspaceConfig {
  version: 1;
  production?: {
    networks?: string[];
    hosts?: string[];
    kubeContexts?: string[];
    stateBackends?: string[];
    env?: string[];
  };
  sandbox?: { networks?: string[] };
  sandboxes?: Record<string, SandboxConfig>;
  gates?: { idempotence?: IdempotenceGateConfig[]; plan?: PlanGateConfig[] };
  limits?: { maxSandboxes?: number; ttl?: string };
  guard?: { commands?: string[]; onUnresolved?: 'block' | 'warn' | 'allow'; dnsServers?: string[] };
}

/** One thing wrong with a configuration file, at its place in the file (1-based line and column). */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Dotted path of the offending key, e.g. `limits.maxSandboxes` ("" for the whole document). */
  key: string;
  message: string;
}

export type ConfigResult =
  { ok: true; file: string; config: WorkspaceConfig } | { ok: false; file: string; problems: ConfigProblem[] };
