import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { Logger } from '../../core/log';
import {
  CancelOperation,
  Hello,
  ListOperations,
  OperationChanged,
  OperationLog,
  ListSandboxes,
  KeepSandbox,
  SandboxIdle,
  SandboxShell,
  SandboxStateChanged,
  type SandboxIdleNotice,
  Shutdown,
  StartOperation,
  type SandboxStatus,
  type StartOperationParams,
  type CompanionInfo,
  type HelloResult,
  type OperationInfo,
  type OperationLogLine,
} from '../../protocol/companion';
import { connectCompanion, type CompanionConnection } from '../../companion/client';
import { isAlive, readCompanionInfo, runtimeDir } from '../../companion/runtime';

export type CompanionState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'up'; info: CompanionInfo; hello: HelloResult }
  | { kind: 'down'; reason: string; retryInMs: number };

/** Reconnection delays after a crash or a restart: quick first, then up to 15 s. */
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000, 15000];
const START_TIMEOUT_MS = 10_000;

/**
 * The extension's side of the companion (SPEC §6): starts `infra-sandbox serve` on demand with VS
 * Code's own runtime (`process.execPath`, ELECTRON_RUN_AS_NODE=1, detached, so it outlives a window
 * reload), connects with the token of its runtime file, keeps the operation list, and reconnects
 * with back-off when the companion dies or restarts — starting a new one if none is left. The
 * context key `infraSandbox:companionUp` enables the commands that need it.
 */
export class CompanionClient implements vscode.Disposable {
  private readonly stateChanged = new vscode.EventEmitter<CompanionState>();
  readonly onDidChangeState = this.stateChanged.event;
  private readonly operationsChanged = new vscode.EventEmitter<OperationInfo[]>();
  readonly onDidChangeOperations = this.operationsChanged.event;
  private readonly logLine = new vscode.EventEmitter<OperationLogLine>();
  readonly onOperationLog = this.logLine.event;
  private readonly sandboxChanged = new vscode.EventEmitter<SandboxStatus & { configFile: string }>();
  /** A sandbox's state after one of its operations ended (from any window or the CLI). */
  readonly onSandboxChanged = this.sandboxChanged.event;

  private state: CompanionState = { kind: 'stopped' };
  private connection: CompanionConnection | undefined;
  private readonly operations = new Map<string, OperationInfo>();
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private wanted = false;
  private disposed = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly cli: string,
    private readonly logFile: string,
    private readonly log: Logger,
  ) {}

  get current(): CompanionState {
    return this.state;
  }

  get operationList(): OperationInfo[] {
    return [...this.operations.values()];
  }

  /** The connection when the companion is up (requests: see src/protocol/companion.ts). */
  get rpc(): MessageConnection | undefined {
    return this.state.kind === 'up' ? this.connection : undefined;
  }

  /** Keeps a companion running and connected from now on (idempotent). */
  start(): Promise<void> {
    this.wanted = true;
    return this.connectNow();
  }

  /** Starts an operation (queued behind others on the same key) and returns its info at once. */
  async startOperation(params: StartOperationParams): Promise<OperationInfo> {
    return this.need().sendRequest(StartOperation, { origin: 'vscode', ...params });
  }

  /** Every sandbox of the config, from the providers' real state. */
  async listSandboxes(configFile: string): Promise<SandboxStatus[]> {
    return this.need().sendRequest(ListSandboxes, { configFile });
  }

  /** The argv of an interactive shell in a sandbox member. */
  async sandboxShell(configFile: string, name: string, member?: string): Promise<string[]> {
    return this.need().sendRequest(SandboxShell, { configFile, name, ...(member ? { member } : {}) });
  }

  /** limits.ttl: the companion will stop an idle sandbox soon; the person may keep it. */
  private async askToKeep(notice: SandboxIdleNotice): Promise<void> {
    const idle = Math.round(notice.idleMs / 60_000);
    const inMin = Math.max(1, Math.round(notice.stopInMs / 60_000));
    const choice = await vscode.window.showWarningMessage(
      `Infra Sandbox: sandbox ${notice.name} has been idle for ${idle} min; it will be stopped in ${inMin} min (limits.ttl). Its data is kept.`,
      'Keep Running',
    );
    if (choice === 'Keep Running')
      await this.rpc?.sendRequest(KeepSandbox, { configFile: notice.configFile, name: notice.name });
  }

  /** Resolves when the operation ends (from its notifications); its final info. */
  waitFor(id: string): Promise<OperationInfo> {
    return new Promise((resolve) => {
      const check = (op: OperationInfo | undefined) => {
        if (op && op.id === id && ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(op.state)) {
          sub.dispose();
          resolve(op);
        }
      };
      const sub = this.onDidChangeOperations(() => check(this.operations.get(id)));
      check(this.operations.get(id));
    });
  }

  private need(): MessageConnection {
    const rpc = this.rpc;
    if (!rpc) throw new Error('the companion is not running (see the status bar); try again when it is back');
    return rpc;
  }

  /** Cancels an operation by id (any client's); resolves with its state after the request. */
  async cancel(id: string): Promise<OperationInfo> {
    const rpc = this.rpc;
    if (!rpc) throw new Error('the companion is not running');
    return rpc.sendRequest(CancelOperation, { id });
  }

  /** Asks the running companion to stop (its operations are cancelled and recorded), then starts a new one. */
  async restart(): Promise<void> {
    const rpc = this.rpc;
    const pid = this.state.kind === 'up' ? this.state.info.pid : undefined;
    if (rpc) await rpc.sendRequest(Shutdown).catch(() => undefined);
    if (pid) await waitFor(() => (isAlive(pid) ? undefined : true), 10_000);
    this.attempt = 0;
    this.wanted = true;
    this.set({ kind: 'starting' });
    await this.connectNow();
  }

  /** Closes this window's connection (the companion keeps running for the others, and exits when idle). */
  stop(): void {
    this.wanted = false;
    clearTimeout(this.timer);
    void this.connection?.close();
    this.set({ kind: 'stopped' });
  }

  private connectNow(): Promise<void> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.disposed || !this.wanted || this.state.kind === 'up') return;
    clearTimeout(this.timer);
    if (this.state.kind !== 'down') this.set({ kind: 'starting' });
    try {
      let info = live();
      if (!info) {
        this.spawnCompanion();
        info = await waitFor(live, START_TIMEOUT_MS);
        if (!info)
          throw new Error(`the companion did not start within ${START_TIMEOUT_MS / 1000} s (see ${this.logFile})`);
      }
      await this.open(info);
      this.attempt = 0;
    } catch (err) {
      this.retry((err as Error).message);
    }
  }

  private spawnCompanion(): void {
    mkdirSync(join(this.logFile, '..'), { recursive: true });
    const out = openSync(this.logFile, 'a', 0o600);
    try {
      const child = spawn(process.execPath, [this.cli, 'serve'], {
        detached: true,
        stdio: ['ignore', out, out],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      child.on('error', (err) => this.log.error(`could not start the companion: ${err.message}`));
      child.unref();
      this.log.info(`started the companion (pid ${child.pid}); its log: ${this.logFile}`);
    } finally {
      closeSync(out);
    }
  }

  private async open(info: CompanionInfo): Promise<void> {
    const connection = await connectCompanion({ info, timeoutMs: 3000 });
    if (!connection) throw new Error(`the companion (pid ${info.pid}) did not accept a connection`);
    connection.onNotification(OperationChanged, (op) => {
      this.operations.set(op.id, op);
      this.operationsChanged.fire(this.operationList);
    });
    connection.onNotification(OperationLog, (line) => this.logLine.fire(line));
    connection.onNotification(SandboxStateChanged, (status) => this.sandboxChanged.fire(status));
    connection.onNotification(SandboxIdle, (notice) => void this.askToKeep(notice));
    connection.onClose(() => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.log.warn('the companion connection closed');
      if (this.wanted && !this.disposed) this.retry('the companion stopped');
    });
    this.connection = connection;
    try {
      const [hello, ops] = await Promise.all([
        connection.sendRequest(Hello),
        connection.sendRequest(ListOperations, { finished: 20 }),
      ]);
      this.operations.clear();
      for (const op of ops) this.operations.set(op.id, op);
      this.operationsChanged.fire(this.operationList);
      this.set({ kind: 'up', info, hello });
      this.log.info(`connected to the companion ${hello.version} (pid ${hello.pid}, port ${info.port})`);
    } catch (err) {
      this.connection = undefined;
      void connection.close();
      throw err;
    }
  }

  private retry(reason: string): void {
    const delay = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)];
    this.set({ kind: 'down', reason, retryInMs: delay });
    this.log.warn(`companion: ${reason}; trying again in ${delay} ms`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connectNow(), delay);
  }

  private set(state: CompanionState): void {
    this.state = state;
    void vscode.commands.executeCommand('setContext', 'infraSandbox:companionUp', state.kind === 'up');
    this.stateChanged.fire(state);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    void this.connection?.close();
    this.stateChanged.dispose();
    this.operationsChanged.dispose();
    this.logLine.dispose();
    this.sandboxChanged.dispose();
  }
}

/** The runtime file of a companion whose process exists, or undefined. */
function live(): CompanionInfo | undefined {
  const info = readCompanionInfo(runtimeDir());
  return info && isAlive(info.pid) ? info : undefined;
}

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return probe();
}
