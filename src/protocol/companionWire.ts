/**
 * The companion's wire constants and the runtime file's shape, without the JSON-RPC library: what
 * the shims' HTTP fast path and `guard exec` need, so they load nothing else. Re-exported by
 * ./companion.ts, the whole protocol.
 */

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
