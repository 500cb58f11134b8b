/**
 * The companion protocol (SPEC §6): JSON-RPC 2.0 over a WebSocket on 127.0.0.1, one JSON-RPC
 * message per WebSocket text frame (no Content-Length framing). Shared by the companion
 * (src/companion/), the CLI and the extension, so a changed shape is a compile error on both ends.
 *
 * Long work (sandbox lifecycle, gate runs) is an *operation*: the request returns its id at once;
 * progress, log lines and the result are published to every client as notifications; any client
 * may cancel it by id. One operation per key (a sandbox name) runs at a time; the others queue.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { FileFindings } from '../core/guard/fileFindings';
import type { ResolvedTarget, Verdict } from '../core/guard/types';
import type { SandboxStatus } from '../core/sandbox/types';

// ---------------------------------------------------------------------------------------------
// The runtime file, the handshake's header and subprotocol, limits, plain-HTTP paths, error codes

export * from './companionWire';

export interface HelloResult {
  version: string;
  pid: number;
  startedAt: string;
  clients: number;
  operations: number;
}
export const Hello = new RequestType0<HelloResult, void>('companion/hello');

/** Asks the companion to exit (after cancelling running operations, which are then recorded as cancelled). */
export const Shutdown = new RequestType0<void, void>('companion/shutdown');

// ---------------------------------------------------------------------------------------------
// Operations

export type OperationState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface OperationInfo {
  id: string;
  /** `sandbox.up`, `sandbox.destroy`, `gate.idempotence`, … */
  kind: string;
  /** What it works on; one operation per key at a time (a sandbox name, a gate's file). */
  key: string;
  /** infra-sandbox.yaml it belongs to (the ledger next to it records it). */
  configFile?: string;
  state: OperationState;
  /** ISO times. */
  queuedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Last progress message and fraction (0..1) when known. */
  message?: string;
  fraction?: number;
  /** Why it failed / was interrupted. */
  error?: string;
  /** For a failed operation, the CLI exit code its error means (2 bad input, 3 blocked, 4 tool missing; else 1). */
  exitCode?: number;
  /** The result, for succeeded operations (shape per kind). */
  result?: unknown;
  /** Who started it: `cli`, `vscode`, … (shown in lists). */
  origin?: string;
}

export interface StartOperationParams {
  kind: string;
  key: string;
  configFile?: string;
  params?: unknown;
  origin?: string;
}
/** Starts (or queues) an operation and returns at once. */
export const StartOperation = new RequestType<StartOperationParams, OperationInfo, void>('operation/start');
export const CancelOperation = new RequestType<{ id: string }, OperationInfo, void>('operation/cancel');
/** Running and queued operations first, then the most recent finished ones. */
export const ListOperations = new RequestType<{ finished?: number }, OperationInfo[], void>('operation/list');
/** The kinds this companion can run (the others answer NotAvailable). */
export const OperationKinds = new RequestType0<string[], void>('operation/kinds');

/** Every change of an operation's state, progress or message; sent to every client. */
export const OperationChanged = new NotificationType<OperationInfo>('operation/changed');
export interface OperationLogLine {
  id: string;
  stream: 'stdout' | 'stderr' | 'info';
  line: string;
  at: string;
}
export const OperationLog = new NotificationType<OperationLogLine>('operation/log');

// ---------------------------------------------------------------------------------------------
// Guard

export interface GuardCheckParams {
  cwd: string;
  configFile?: string;
  inventories?: string[];
  limit?: string;
  kubeconfig?: string;
  context?: string;
  hosts?: string[];
  tfDir?: string;
  inventoryParser?: 'auto' | 'builtin' | 'ansible';
}
export interface GuardProblem {
  file: string;
  line: number;
  column?: number;
  message: string;
}
export interface GuardCheckResult {
  verdict: Verdict;
  problems: GuardProblem[];
}
export const GuardCheck = new RequestType<GuardCheckParams, GuardCheckResult, void>('guard/check');

/** The decision `guard exec` needs, made by a warm companion with the caller's cwd and environment. */
export interface GuardDecideParams {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  configFile?: string;
  inventoryParser?: 'auto' | 'builtin' | 'ansible';
  /** ANSI colours in `message` (the caller's stderr is a terminal). */
  color?: boolean;
}
export interface GuardDecideResult extends GuardCheckResult {
  /** What the CLI would exit with before running anything: 0 run it, 2 bad input, 3 blocked. */
  exitCode: 0 | 2 | 3;
  /** The text `guard exec` prints on stderr (empty when allowed without warnings). */
  message: string;
  /** Allowed: the real executable (PATH without shims), or undefined when it is not installed. */
  executable?: string;
  /** Allowed but not installed: what `guard exec` prints before it exits 4. */
  missing?: string;
}
export const GuardDecide = new RequestType<GuardDecideParams, GuardDecideResult, void>('guard/decide');

/** The editor's guard diagnostics for one file (its text may be unsaved): src/core/guard/fileFindings.ts. */
export interface GuardFileParams {
  file: string;
  text: string;
  configFile: string;
  /** Other unsaved editor texts by absolute path (an edited host_vars file, say). */
  overrides?: Record<string, string>;
  /** False in an untrusted workspace: no DNS lookup, only literals and name rules. */
  lookups: boolean;
}
/** Null when the guard has nothing to say about this kind of file. */
export const GuardFileFindings = new RequestType<GuardFileParams, FileFindings | null, void>('guard/fileFindings');

/** What the editor's environment indicator needs: does the ambient kube context (and production.env) reach production? */
export interface GuardEnvironmentParams {
  cwd: string;
  /** The editor's environment: KUBECONFIG, HOME, the production.env variables… */
  env: Record<string, string>;
  configFile: string;
}
export interface GuardEnvironmentResult {
  /** The first target that resolves to production (an unresolvable one does not count here). */
  production: ResolvedTarget | null;
  reason: string;
}
export const GuardEnvironment = new RequestType<GuardEnvironmentParams, GuardEnvironmentResult, void>(
  'guard/environment',
);

// ---------------------------------------------------------------------------------------------
// Sandboxes, gates, ledger (SPEC §4). Lifecycle and gates run as operations (StartOperation with
// kinds `sandbox.up|start|stop|destroy`, `gate.idempotence`, `gate.plan`); these are the queries.

/** One sandbox's real state (members, health, artifacts): src/core/sandbox/types.ts. */
export type { SandboxStatus, SandboxMember, SandboxArtifacts } from '../core/sandbox/types';
export const ListSandboxes = new RequestType<{ configFile: string }, SandboxStatus[], void>('sandbox/list');
/** A sandbox's state after one of its operations ended; sent to every client. */
export const SandboxStateChanged = new NotificationType<SandboxStatus & { configFile: string }>('sandbox/changed');
/** The argv of an interactive shell in a member (`docker exec -it …`, `multipass shell …`). */
export const SandboxShell = new RequestType<{ configFile: string; name: string; member?: string }, string[], void>(
  'sandbox/shell',
);

/** A running sandbox idle past `limits.ttl` minus the warning time: it will be stopped in `stopInMs` unless kept. */
export interface SandboxIdleNotice {
  configFile: string;
  name: string;
  idleMs: number;
  stopInMs: number;
}
export const SandboxIdle = new NotificationType<SandboxIdleNotice>('sandbox/idle');
/** Someone uses the sandbox: its idle time starts again. */
export const KeepSandbox = new RequestType<{ configFile: string; name: string }, void, void>('sandbox/keep');

export interface GateResultNotice {
  configFile: string;
  gate: 'idempotence' | 'plan';
  subject: string;
  passed: boolean;
  operationId: string;
}
export const GateResult = new NotificationType<GateResultNotice>('gate/result');

export interface LedgerEntry {
  /** ISO time of the entry. */
  at: string;
  /** `operation` (any operation's end), later `gate`, `promotion`, `environment`. */
  kind: string;
  /** Operation kind (`sandbox.up`), or what the entry is about. */
  subject: string;
  key?: string;
  result: 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'passed';
  operationId?: string;
  durations?: Record<string, number>;
  error?: string;
  [extra: string]: unknown;
}
export const QueryLedger = new RequestType<{ configFile: string; limit?: number }, LedgerEntry[], void>('ledger/query');
