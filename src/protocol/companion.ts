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
import type { Verdict } from '../core/guard/types';

// ---------------------------------------------------------------------------------------------
// The runtime file and the handshake

/** `companion.json` in the runtime folder (mode 0600): how a client finds and authenticates to the companion. */
export interface CompanionInfo {
  port: number;
  pid: number;
  /** 64 hex characters (256 random bits); required on every connection. */
  token: string;
  version: string;
  /** ISO time the companion started. */
  startedAt: string;
}

/** The header carrying the token on the upgrade request (or on the guard fast-path HTTP request). */
export const TOKEN_HEADER = 'x-infra-sandbox-token';
/** For clients that cannot set headers: `Sec-WebSocket-Protocol: infra-sandbox.v1, infra-sandbox.token.<token>`. */
export const SUBPROTOCOL = 'infra-sandbox.v1';
export const TOKEN_SUBPROTOCOL_PREFIX = 'infra-sandbox.token.';

/** Limits the companion enforces (a client should stay well inside them). */
export const LIMITS = {
  /** Largest WebSocket message accepted; bigger → close 1009 (message too big). */
  maxMessageBytes: 1024 * 1024,
  /** Requests one client may have unanswered; more → error PendingLimit, the request is not run. */
  maxPendingPerClient: 64,
  /** WebSocket clients at once; one more → HTTP 503 on the upgrade. */
  maxClients: 128,
  /** Body of `POST /guard/decide`; bigger → HTTP 413. */
  maxHttpBodyBytes: 1024 * 1024,
} as const;

/**
 * Plain HTTP on the same port. `GET /healthz` → 200 `ok` (no token, no details): is anything
 * listening. `POST /guard/decide` (TOKEN_HEADER required, JSON GuardDecideParams) → 200 JSON
 * GuardDecideResult: the terminal shims' fast path, one request per command without a WebSocket.
 * With `Accept: text/plain` the answer is instead `exit=N\nexecutable=PATH\n\nMESSAGE` (the
 * executable line empty when not installed; MESSAGE is `message`, then `missing` when set), easy
 * to read from a shell. Errors: 400 bad JSON or params, 401 token, 403 browser Origin or foreign
 * Host, 404 any other path, 413 too big.
 */
export const HEALTH_PATH = '/healthz';
export const GUARD_DECIDE_PATH = '/guard/decide';

/** JSON-RPC error codes of our own (the -32000 range is for implementations). */
export const ErrorCodes = {
  /** Too many unanswered requests from this client. */
  PendingLimit: -32001,
  /** The operation or method exists in the protocol but not in this version (providers, gates). */
  NotAvailable: -32002,
  /** Unknown operation id. */
  UnknownOperation: -32003,
  /** Bad input (file:line in the message), like the CLI's exit 2. */
  BadInput: -32004,
} as const;

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

// ---------------------------------------------------------------------------------------------
// Sandboxes, gates, ledger (SPEC §4). Lifecycle and gates run as operations (StartOperation with
// kinds `sandbox.up|start|stop|destroy`, `gate.idempotence`, `gate.plan`); these are the queries.

export interface SandboxStatus {
  name: string;
  provider: string;
  state: 'absent' | 'creating' | 'running' | 'stopped' | 'degraded' | 'unknown';
  detail?: string;
}
export const ListSandboxes = new RequestType<{ configFile: string }, SandboxStatus[], void>('sandbox/list');
export const SandboxStateChanged = new NotificationType<SandboxStatus & { configFile: string }>('sandbox/changed');

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
