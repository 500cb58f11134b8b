/**
 * The sandbox companion (SPEC §6): an HTTP server on 127.0.0.1 only, with JSON-RPC 2.0 over a
 * WebSocket for the editor and the CLI, and one plain HTTP route for the terminal shims.
 *
 * Security model: the port is on loopback and every connection must present a 256-bit token
 * (compared in constant time) that only the user can read (companion.json, 0600 in a 0700
 * folder); a browser `Origin` other than VS Code's webviews, or a `Host` that is not loopback
 * (DNS rebinding), is refused before anything else is looked at. A refused upgrade gets a bare
 * HTTP status and never becomes a WebSocket, so no handler can run for it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname, join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { type MessageConnection } from 'vscode-jsonrpc/node';
import { OperationManager } from '../core/ops/operations';
import { loadProviders } from '../core/sandbox/loadProviders';
import type { SandboxService } from '../core/sandbox/service';
import { TtlWatcher } from '../core/sandbox/ttl';
import { readLedger } from '../core/ledger/ledger';
import { registerSandboxOperations } from './sandboxOps';
import { silentLogger, type Logger } from '../core/log';
import {
  GUARD_DECIDE_PATH,
  HEALTH_PATH,
  LIMITS,
  OperationChanged,
  SandboxIdle,
  SandboxStateChanged,
  OperationLog,
  SUBPROTOCOL,
  type CompanionInfo,
} from '../protocol/companion';
import { ConfigCache } from './guardDecision';
import { companionMethods, type Method } from './handlers';
import { createWsConnection, type RpcError } from './rpc/wsConnection';
import {
  ensurePrivateDir,
  JOURNAL_FILE,
  removeCompanionInfo,
  runtimeDir as defaultRuntimeDir,
  stateDir as defaultStateDir,
  writeCompanionInfo,
} from './runtime';
import { guardDecideOverHttp, pathOf, refuseRequest, refuseUpgrade, send } from './http';
import { VERSION } from './version';

export { tokenMatches } from './http';

/** How often idle sandboxes are looked for (limits.ttl is minutes to days). */
const TTL_TICK_MS = 60_000;

export interface CompanionOptions {
  /** Always 127.0.0.1; the option exists to say so. */
  host?: '127.0.0.1';
  /** 0 (default): a random free port. */
  port?: number;
  /** 64 hex characters; default: 256 fresh random bits. */
  token?: string;
  /** Exit after this long with no client and no operation (default 10 minutes; 0 = never). */
  idleTimeoutMs?: number;
  runtimeDir?: string;
  stateDir?: string;
  /** Write companion.json / companion.env (default true). */
  writeRuntimeFile?: boolean;
  /** Close gracefully on SIGTERM and SIGINT (`infra-sandbox serve` sets it). */
  handleSignals?: boolean;
  /** How long running operations get to end after being cancelled at shutdown (default 5 s). */
  shutdownTimeoutMs?: number;
  /** Registers extra operation kinds (tests). */
  operations?: (manager: OperationManager) => void;
  /** The sandbox lifecycle (default: the real compose, k3d and multipass providers). */
  sandboxes?: SandboxService;
  logger?: Logger;
}

/** Counters for tests and `--status`. */
export interface CompanionStats {
  /** Upgrades refused with 401/403/404/503 (never a WebSocket). */
  refusedUpgrades: number;
  /** HTTP requests refused (401/403/404/413/400). */
  refusedHttp: number;
  /** Frames the reader answered (or dropped) itself: bad JSON, bad shape, unknown method, bad params, limits. */
  rejectedFrames: number;
  /** Requests that reached a handler. */
  handledRequests: number;
  /** WebSocket connections accepted so far. */
  connections: number;
  /** Guard decisions made over HTTP (the terminal shims, `guard exec`). */
  httpDecisions: number;
}

export interface Companion {
  /** The address the server is bound to: always 127.0.0.1. */
  address: string;
  port: number;
  token: string;
  info: CompanionInfo;
  runtimeDir: string;
  stateDir: string;
  manager: OperationManager;
  stats(): CompanionStats;
  /** Cancels the operations (recorded as cancelled), closes every client and the port, removes the runtime file. */
  close(): Promise<void>;
  /** Resolves once the companion has closed, for whatever reason (close(), Shutdown, idle, a signal). */
  done: Promise<void>;
}

const DEFAULT_IDLE_MS = 10 * 60 * 1000;
const HEARTBEAT_MS = 30_000;
/** `POST /guard/decide` requests handled at once; more → 503. */
const MAX_CONCURRENT_DECIDES = 64;

interface Client {
  ws: WebSocket;
  connection: MessageConnection;
  alive: boolean;
}

export async function startCompanion(opts: CompanionOptions = {}): Promise<Companion> {
  const logger = opts.logger ?? silentLogger;
  const token = opts.token ?? randomBytes(32).toString('hex');
  if (!/^[0-9a-f]{64}$/.test(token)) throw new Error('the companion token must be 64 lowercase hex characters');
  const runtime = ensurePrivateDir(opts.runtimeDir ?? defaultRuntimeDir());
  const state = ensurePrivateDir(opts.stateDir ?? defaultStateDir());
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const startedAt = new Date().toISOString();
  const stats: CompanionStats = {
    refusedUpgrades: 0,
    refusedHttp: 0,
    rejectedFrames: 0,
    handledRequests: 0,
    connections: 0,
    httpDecisions: 0,
  };

  const manager = new OperationManager({ journalFile: join(state, JOURNAL_FILE), logger });
  const configs = new ConfigCache();
  const sandboxes =
    opts.sandboxes ??
    (() => {
      const { SandboxService: Service, createProviders } = loadProviders();
      return new Service({ providers: createProviders() });
    })();
  registerSandboxOperations(manager, sandboxes, (file) => configs.load(file));
  opts.operations?.(manager);
  // Before the port opens: what a killed companion left running is marked interrupted (journal,
  // ledger), so the first client's ListOperations already shows it.
  const interrupted = await manager.recover();
  for (const op of interrupted) logger.warn(`operation ${op.id} (${op.kind} ${op.key}) was interrupted: ${op.error}`);

  const clients = new Set<Client>();
  let closing: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  // limits.ttl: running sandboxes idle that long are stopped, after a warning to every client.
  const ttl = new TtlWatcher({
    loadConfig: (file) => configs.load(file),
    list: (file, config) => sandboxes.list({ root: dirname(file), configFile: file, config, env: process.env }),
    // One read of the ledger per config and pass: the last lifecycle entry of each sandbox.
    lastActivities: async (file) => {
      const { entries } = await readLedger(file, { limit: 2000 });
      const last = new Map<string, number>();
      for (const e of entries) if (e.key && e.subject.startsWith('sandbox.')) last.set(e.key, Date.parse(e.at));
      return last;
    },
    warn: (notice) => broadcast((c) => c.sendNotification(SandboxIdle, notice)),
    stop: (notice) => {
      logger.info(`${notice.name} idle for ${Math.round(notice.idleMs / 60_000)} min (limits.ttl): stopping it`);
      manager.start({ kind: 'sandbox.stop', key: notice.name, configFile: notice.configFile, origin: 'ttl' });
    },
  });
  const ttlTimer = setInterval(() => void ttl.tick().catch(() => undefined), TTL_TICK_MS);
  ttlTimer.unref();

  const methods: Map<string, Method> = companionMethods({
    manager,
    configs,
    sandboxes,
    seen: (file) => ttl.track(file),
    keep: (file, name) => ttl.keep(file, name),
    hello: () => ({
      version: VERSION,
      pid: process.pid,
      startedAt,
      clients: clients.size,
      operations: manager.activeCount,
    }),
    shutdown: () => setImmediate(() => void close()),
  });

  const checkRequest = (method: string, params: unknown): RpcError | undefined => {
    const m = methods.get(method);
    if (!m) return { code: -32601, message: `unknown method ${method}` };
    const arg = Array.isArray(params) ? (params.length <= 1 ? params[0] : TOO_MANY) : params;
    const problem = arg === TOO_MANY ? 'params: at most one positional parameter' : m.check(arg);
    return problem ? { code: -32602, message: `invalid params for ${method}: ${problem}` } : undefined;
  };

  // --- notifications to every client ----------------------------------------------------------
  // Sent on the next turn, in order: the answer to the request that caused a change (StartOperation,
  // CancelOperation) is written in this turn, so a client hears of an id only after it has it.
  let outbox: ((connection: MessageConnection) => Promise<void>)[] = [];
  const flushOutbox = () => {
    const batch = outbox;
    outbox = [];
    for (const c of clients) {
      for (const notify of batch) {
        try {
          notify(c.connection).catch(() => {});
        } catch {
          // a connection closing right now: it is leaving the set
        }
      }
    }
  };
  const broadcast = (notify: (connection: MessageConnection) => Promise<void>) => {
    if (outbox.push(notify) === 1) setImmediate(flushOutbox);
  };
  const subscriptions = [
    manager.onChanged((op) => {
      broadcast((c) => c.sendNotification(OperationChanged, op));
      updateIdle();
      // After a lifecycle operation, every window hears the sandbox's new real state.
      if (op.kind.startsWith('sandbox.') && op.configFile && op.endedAt) {
        const configFile = op.configFile;
        ttl.track(configFile);
        void configs
          .load(configFile)
          .then((config) =>
            sandboxes.status({ root: dirname(configFile), configFile, config, name: op.key, env: process.env }),
          )
          .then((status) => broadcast((c) => c.sendNotification(SandboxStateChanged, { ...status, configFile })))
          .catch((err: unknown) => logger.warn(`status of ${op.key} after ${op.kind}: ${String(err)}`));
      }
    }),
    manager.onLog((line) => broadcast((c) => c.sendNotification(OperationLog, line))),
  ];

  // --- idle exit -------------------------------------------------------------------------------
  let idleTimer: NodeJS.Timeout | undefined;
  function updateIdle(): void {
    const idle = clients.size === 0 && manager.activeCount === 0 && !closing;
    if (!idle || idleMs <= 0) {
      clearTimeout(idleTimer);
      idleTimer = undefined;
    } else if (!idleTimer) {
      idleTimer = setTimeout(() => {
        logger.info(`no client and no operation for ${idleMs} ms: exiting`);
        void close();
      }, idleMs);
      idleTimer.unref?.();
    }
  }
  /** A shim's request counts as activity: it restarts the idle countdown. */
  function touch(): void {
    if (idleTimer) {
      clearTimeout(idleTimer);
      idleTimer = undefined;
      updateIdle();
    }
  }

  // --- WebSocket clients ------------------------------------------------------------------------
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIMITS.maxMessageBytes,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  function onConnection(ws: WebSocket): void {
    stats.connections++;
    const connection = createWsConnection(ws, {
      server: {
        maxPending: LIMITS.maxPendingPerClient,
        checkRequest,
        onRejected: () => stats.rejectedFrames++,
      },
    });
    for (const m of methods.values()) {
      connection.onRequest(m.method, (...args: unknown[]) => {
        stats.handledRequests++;
        // (params, token) for by-name params, (token) for none: see checkRequest.
        return m.run(args.length > 1 ? (args[0] ?? undefined) : undefined);
      });
    }
    const client: Client = { ws, connection, alive: true };
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => {
      clients.delete(client);
      updateIdle();
    });
    clients.add(client);
    connection.listen();
    updateIdle();
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  // --- HTTP -------------------------------------------------------------------------------------
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refusal = closing
      ? ([503, 'Service Unavailable'] as const)
      : pathOf(req) !== '/'
        ? ([404, 'Not Found'] as const)
        : (refuseRequest(req, token) ??
          (clients.size >= LIMITS.maxClients ? ([503, 'Service Unavailable'] as const) : undefined));
    if (refusal) {
      stats.refusedUpgrades++;
      refuseUpgrade(socket, refusal[0], refusal[1]);
      return;
    }
    wss.handleUpgrade(req, socket, head, onConnection);
  });

  let decides = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req);
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    }
    if (path !== GUARD_DECIDE_PATH || req.method !== 'POST') {
      stats.refusedHttp++;
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    const refusal = refuseRequest(req, token);
    if (refusal) {
      stats.refusedHttp++;
      return send(res, refusal[0], 'text/plain; charset=utf-8', `${refusal[1].toLowerCase()}\n`);
    }
    if (closing || decides >= MAX_CONCURRENT_DECIDES) return send(res, 503, 'text/plain; charset=utf-8', 'busy\n');
    decides++;
    touch();
    void guardDecideOverHttp(req, res, configs, stats).finally(() => decides--);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  server.on('error', (err) => logger.error(`companion server error: ${err.message}`));
  const address = server.address();
  if (!address || typeof address !== 'object' || address.address !== '127.0.0.1') {
    server.close();
    throw new Error(`the companion must listen on 127.0.0.1 only (got ${JSON.stringify(address)})`);
  }
  const port = address.port;
  const info: CompanionInfo = { port, pid: process.pid, token, version: VERSION, startedAt };
  if (opts.writeRuntimeFile !== false) writeCompanionInfo(info, runtime);

  // --- shutdown ---------------------------------------------------------------------------------
  const onSignal = () => void close();
  if (opts.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      clearTimeout(idleTimer);
      clearInterval(ttlTimer);
      clearInterval(heartbeat);
      if (opts.handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      // Running operations are cancelled and recorded while the clients can still see it happen.
      await manager.shutdown(opts.shutdownTimeoutMs ?? 5000).catch((err: Error) => logger.error(err.message));
      for (const s of subscriptions) s.dispose();
      flushOutbox(); // the last states (cancelled) reach the clients before their sockets close
      if (opts.writeRuntimeFile !== false) removeCompanionInfo(process.pid, runtime);
      const closed = [...clients].map(
        (c) =>
          new Promise<void>((r) => {
            if (c.ws.readyState === c.ws.CLOSED) return r();
            c.ws.once('close', () => r());
            c.ws.close(1001, 'the companion is shutting down');
            setTimeout(() => c.ws.terminate(), 1000).unref();
          }),
      );
      await Promise.all(closed);
      wss.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      resolveDone();
    })();
    return closing;
  }

  updateIdle();
  return {
    address: address.address,
    port,
    token,
    info,
    runtimeDir: runtime,
    stateDir: state,
    manager,
    stats: () => ({ ...stats }),
    close,
    done,
  };
}

const TOO_MANY = Symbol('too many params');
