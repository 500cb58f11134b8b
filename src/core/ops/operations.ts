import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ErrorCodes,
  type LedgerEntry,
  type OperationInfo,
  type OperationLogLine,
  type OperationState,
  type StartOperationParams,
} from '../../protocol/companion';
import type { DisposableLike } from '../cancellation';
import { CancelledError } from '../exec/errors';
import { appendLedger } from '../ledger/ledger';
import { silentLogger, type Logger } from '../log';

/**
 * Long work (sandbox lifecycle, gate runs) as operations (SPEC §6): started by id, one at a time
 * per key with the others queued FIFO, cancellable, observable (state, progress, log lines), and
 * journaled so that a companion killed in the middle loses nothing — the next one marks what was
 * queued or running as interrupted, in the journal and in the ledger (SPEC §8, §10).
 *
 * This is the pure engine: no sockets. The companion adapts it to JSON-RPC (start/cancel/list as
 * requests, onChanged/onLog as notifications).
 */

/** What a runner gets: its identity, its parameters, a signal and ways to report. */
export interface OperationContext {
  id: string;
  kind: string;
  key: string;
  params: unknown;
  configFile?: string;
  /** Aborted on cancel and on shutdown (its reason is a CancelledError). */
  signal: AbortSignal;
  /** The current step; fraction 0..1 when known. Throttled to about 20 notifications a second. */
  progress(message: string, fraction?: number): void;
  /** One line (or several, split on newlines) of output for the clients; not journaled. */
  log(line: string, stream?: 'stdout' | 'stderr' | 'info'): void;
}

/** Does the work; its return value becomes the operation's result, its thrown error the failure. */
export type OperationRunner = (ctx: OperationContext) => Promise<unknown>;

/** A refusal with a JSON-RPC error code from ErrorCodes (the companion passes it through). */
export class OperationError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

export interface OperationManagerOptions {
  /** JSON lines of state snapshots, e.g. `<stateDir>/operations.jsonl` (folder 0700, file 0600). */
  journalFile: string;
  /** Records an operation's end next to its config (default: appendLedger). */
  ledger?: (configFile: string, entry: LedgerEntry) => Promise<void>;
  now?: () => Date;
  /** Finished operations kept in memory and in the journal (default 50). */
  keepFinished?: number;
  /** Where journal and ledger write failures and listener exceptions are reported. */
  logger?: Logger;
}

/** One journal line: a full snapshot of an operation at a state transition, and who wrote it. */
interface JournalLine {
  pid: number;
  op: OperationInfo;
}

interface Operation {
  info: OperationInfo;
  params: unknown;
  runner: OperationRunner;
  controller: AbortController;
  /** Order of arrival, for FIFO across keys in list(). */
  seq: number;
  /** The runner's settlement (running operations only). */
  settled?: Promise<void>;
  lastProgressAt: number;
  progressTimer?: NodeJS.Timeout;
}

const FINISHED: readonly OperationState[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];
/** Minimum time between two progress notifications of one operation (≈ 20 a second). */
const PROGRESS_INTERVAL_MS = 50;
/** The journal is rewritten from memory once this many lines have been appended since the last rewrite. */
const COMPACT_AFTER_LINES = 500;

export class OperationManager {
  private readonly runners = new Map<string, OperationRunner>();
  /** Queued and running operations by id. */
  private readonly active = new Map<string, Operation>();
  /** The running operation of each busy key. */
  private readonly runningByKey = new Map<string, Operation>();
  /** Waiting operations of each busy key, FIFO. */
  private readonly queues = new Map<string, Operation[]>();
  /** Finished operations, newest first, at most keepFinished. */
  private finished: OperationInfo[] = [];
  private readonly changeListeners = new Set<(op: OperationInfo) => void>();
  private readonly logListeners = new Set<(line: OperationLogLine) => void>();
  /** Ledger writes in flight (shutdown and flush wait for them). */
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly ledger: (configFile: string, entry: LedgerEntry) => Promise<void>;
  private readonly now: () => Date;
  private readonly keepFinished: number;
  private readonly logger: Logger;
  private seq = 0;
  private journalLines = 0;
  private closing = false;

  constructor(private readonly opts: OperationManagerOptions) {
    this.ledger = opts.ledger ?? appendLedger;
    this.now = opts.now ?? (() => new Date());
    this.keepFinished = Math.max(0, opts.keepFinished ?? 50);
    this.logger = opts.logger ?? silentLogger;
  }

  register(kind: string, runner: OperationRunner): void {
    this.runners.set(kind, runner);
  }

  kinds(): string[] {
    return [...this.runners.keys()].sort();
  }

  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Call once at start-up: reads the journal; every operation that was queued or running when the
   * previous companion died is marked `interrupted`, written back to the journal, recorded in its
   * config's ledger, and returned. The journal is compacted (only the last keepFinished finished
   * operations remain), and those finished operations show in list() again.
   */
  async recover(): Promise<OperationInfo[]> {
    const last = new Map<string, JournalLine>();
    for (const line of this.readJournal()) {
      last.delete(line.op.id); // keep the order of each operation's latest line
      last.set(line.op.id, line);
    }
    const endedAt = this.now().toISOString();
    const interrupted: OperationInfo[] = [];
    const recovered: OperationInfo[] = [];
    for (const { pid, op } of last.values()) {
      if (this.active.has(op.id) || this.finished.some((f) => f.id === op.id)) continue;
      if (FINISHED.includes(op.state)) {
        recovered.push(op);
        continue;
      }
      const { message: _waiting, ...rest } = op;
      const info: OperationInfo = {
        ...(op.state === 'queued' ? rest : op),
        state: 'interrupted',
        endedAt,
        error: `the companion stopped (pid ${pid}) while it was ${op.state === 'queued' ? 'queued' : 'running'}`,
      };
      interrupted.push(info);
      recovered.push(info);
    }
    // Newest first; a stable sort keeps the interrupted ones (all ended now) in reverse journal order.
    this.finished = [...recovered.reverse(), ...this.finished]
      .sort((a, b) => (b.endedAt ?? '').localeCompare(a.endedAt ?? ''))
      .slice(0, this.keepFinished);
    this.compactJournal();
    for (const info of interrupted) {
      this.emitChanged(info);
      this.recordEnd(info);
    }
    await this.flush();
    return interrupted.map((i) => ({ ...i }));
  }

  /** Queues (or starts at once when its key is free) and returns its info. */
  start(p: StartOperationParams): OperationInfo {
    if (this.closing)
      throw new OperationError(
        'the companion is shutting down; start the operation again later',
        ErrorCodes.NotAvailable,
      );
    if (!p || typeof p.kind !== 'string' || typeof p.key !== 'string' || p.key === '') {
      throw new OperationError('an operation needs a kind and a non-empty key', ErrorCodes.BadInput);
    }
    const runner = this.runners.get(p.kind);
    if (!runner) {
      const kinds = this.kinds();
      throw new OperationError(
        `operation "${p.kind}" is not available in this companion; available: ${kinds.length ? kinds.join(', ') : 'none'}`,
        ErrorCodes.NotAvailable,
      );
    }
    const info: OperationInfo = {
      id: `op-${randomBytes(6).toString('hex')}`,
      kind: p.kind,
      key: p.key,
      ...(p.configFile !== undefined && { configFile: p.configFile }),
      state: 'queued',
      queuedAt: this.now().toISOString(),
      ...(p.origin !== undefined && { origin: p.origin }),
    };
    const op: Operation = {
      info,
      params: p.params,
      runner,
      controller: new AbortController(),
      seq: this.seq++,
      lastProgressAt: 0,
    };
    this.active.set(info.id, op);
    const running = this.runningByKey.get(p.key);
    if (running) {
      info.message = waitingFor(running.info);
      const queue = this.queues.get(p.key) ?? [];
      queue.push(op);
      this.queues.set(p.key, queue);
      this.journal(info);
      this.emitChanged(info);
    } else {
      this.launch(op);
    }
    return { ...info };
  }

  /**
   * Queued → cancelled at once; running → its signal is aborted and it ends as cancelled when the
   * runner settles (whatever the runner returns); finished → returned unchanged.
   */
  cancel(id: string): OperationInfo {
    const op = this.active.get(id);
    if (!op) {
      const done = this.finished.find((f) => f.id === id);
      if (done) return { ...done };
      throw new OperationError(`no operation ${id} (unknown, or finished long ago)`, ErrorCodes.UnknownOperation);
    }
    if (op.info.state === 'queued') {
      this.removeFromQueue(op);
      this.end(op, 'cancelled', { message: 'cancelled while queued' });
    } else if (!op.controller.signal.aborted) {
      op.controller.abort(new CancelledError(op.info.kind));
      op.info.message = 'cancelling…';
      this.emitChanged(op.info);
    }
    return { ...op.info };
  }

  get(id: string): OperationInfo | undefined {
    const info = this.active.get(id)?.info ?? this.finished.find((f) => f.id === id);
    return info && { ...info };
  }

  /** Running, then queued (FIFO), then the last N finished (newest first; default: all kept). */
  list(opts: { finished?: number } = {}): OperationInfo[] {
    const ops = [...this.active.values()].sort((a, b) => a.seq - b.seq);
    const finishedCount = Math.max(0, opts.finished ?? this.keepFinished);
    return [
      ...ops.filter((o) => o.info.state === 'running').map((o) => ({ ...o.info })),
      ...ops.filter((o) => o.info.state === 'queued').map((o) => ({ ...o.info })),
      ...this.finished.slice(0, finishedCount).map((f) => ({ ...f })),
    ];
  }

  /** Every state change and (throttled) progress change; the listener gets a copy. */
  onChanged(listener: (op: OperationInfo) => void): DisposableLike {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }

  onLog(listener: (line: OperationLogLine) => void): DisposableLike {
    this.logListeners.add(listener);
    return { dispose: () => this.logListeners.delete(listener) };
  }

  /** Resolves when every ledger entry written so far is on disk. */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  /**
   * Cancels everything and waits for the runners to settle, at most timeoutMs; the ones still
   * pending then are recorded as interrupted. Later start() calls are refused.
   */
  async shutdown(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    // The queued ones first, so that no ending operation hands its key to a waiting one.
    for (const op of [...this.active.values()]) if (op.info.state === 'queued') this.cancel(op.info.id);
    const running = [...this.active.values()];
    for (const op of running) this.cancel(op.info.id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(running.map((o) => o.settled)), timeout]);
    clearTimeout(timer);
    for (const op of [...this.active.values()]) {
      this.end(op, 'interrupted', {
        error: `the companion stopped (pid ${process.pid}) and the operation did not end within ${timeoutMs} ms of being cancelled`,
      });
    }
    await this.flush();
  }

  // -------------------------------------------------------------------------------------------

  /** Makes the operation the running one of its key and calls its runner on a later turn. */
  private launch(op: Operation): void {
    const { info } = op;
    this.runningByKey.set(info.key, op);
    info.state = 'running';
    info.startedAt = this.now().toISOString();
    delete info.message;
    this.journal(info);
    this.emitChanged(info);
    const ctx: OperationContext = {
      id: info.id,
      kind: info.kind,
      key: info.key,
      params: op.params,
      ...(info.configFile !== undefined && { configFile: info.configFile }),
      signal: op.controller.signal,
      progress: (message, fraction) => this.progress(op, message, fraction),
      log: (line, stream = 'info') => this.log(op, line, stream),
    };
    // The runner never runs inside start() (or inside the end of the operation before it): it
    // starts on a later turn of the event loop, once the caller has its answer.
    op.settled = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        if (op.controller.signal.aborted) throw op.controller.signal.reason;
        return op.runner(ctx);
      })
      .then(
        (result) =>
          op.controller.signal.aborted
            ? this.end(op, 'cancelled', { message: 'cancelled' })
            : this.end(op, 'succeeded', { result }),
        (err: unknown) =>
          op.controller.signal.aborted
            ? this.end(op, 'cancelled', { message: 'cancelled' })
            : this.end(op, 'failed', { error: errorMessage(err), exitCode: exitCodeOf(err) }),
      );
  }

  private progress(op: Operation, message: string, fraction?: number): void {
    if (op.info.state !== 'running') return;
    op.info.message = String(message);
    if (typeof fraction === 'number' && Number.isFinite(fraction))
      op.info.fraction = Math.min(1, Math.max(0, fraction));
    if (op.progressTimer) return; // the trailing notification carries this one
    const wait = op.lastProgressAt + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      op.lastProgressAt = Date.now();
      this.emitChanged(op.info);
      return;
    }
    op.progressTimer = setTimeout(() => {
      op.progressTimer = undefined;
      if (op.info.state !== 'running') return;
      op.lastProgressAt = Date.now();
      this.emitChanged(op.info);
    }, wait);
  }

  private log(op: Operation, text: string, stream: 'stdout' | 'stderr' | 'info'): void {
    if (!this.active.has(op.info.id) || this.logListeners.size === 0) return;
    const at = this.now().toISOString();
    const lines = String(text).split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      for (const listener of this.logListeners) {
        this.safely(() => listener({ id: op.info.id, stream, line, at }), 'an operation/log listener');
      }
    }
  }

  /** The single way out: journal, memory, the next queued operation of the key, listeners, ledger. */
  private end(
    op: Operation,
    state: 'succeeded' | 'failed' | 'cancelled' | 'interrupted',
    extra: { result?: unknown; error?: string; message?: string; exitCode?: number },
  ): void {
    if (!this.active.has(op.info.id)) return; // already ended (a runner settling after shutdown's timeout)
    clearTimeout(op.progressTimer);
    op.progressTimer = undefined;
    const { info } = op;
    info.state = state;
    info.endedAt = this.now().toISOString();
    if (extra.message !== undefined) info.message = extra.message;
    if (extra.error !== undefined) info.error = extra.error;
    if (extra.exitCode !== undefined) info.exitCode = extra.exitCode;
    if (state === 'succeeded' && extra.result !== undefined) info.result = extra.result;
    this.active.delete(info.id);
    this.finished.unshift(info);
    this.finished.length = Math.min(this.finished.length, this.keepFinished);
    this.journal(info);
    const next = this.runningByKey.get(info.key) === op ? this.freeKey(info.key) : undefined;
    this.emitChanged(info);
    this.recordEnd(info);
    if (next) this.launch(next);
  }

  /** Releases a key and returns the operation to run next on it (the others' messages name it). */
  private freeKey(key: string): Operation | undefined {
    this.runningByKey.delete(key);
    const queue = this.queues.get(key);
    const next = queue?.shift();
    if (!queue?.length) this.queues.delete(key);
    if (next && queue) {
      for (const waiting of queue) {
        waiting.info.message = waitingFor(next.info);
        this.emitChanged(waiting.info);
      }
    }
    return next;
  }

  private removeFromQueue(op: Operation): void {
    const queue = this.queues.get(op.info.key);
    if (!queue) return;
    const i = queue.indexOf(op);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(op.info.key);
  }

  private recordEnd(info: OperationInfo): void {
    if (!info.configFile || !FINISHED.includes(info.state)) return;
    // A runner may add to its entry: `{ ledger: { durations, …fields } }` in its result (time-to-ready, provider).
    const own = ledgerPart(info.result);
    const entry: LedgerEntry = {
      at: info.endedAt ?? this.now().toISOString(),
      kind: 'operation',
      subject: info.kind,
      key: info.key,
      result: info.state as LedgerEntry['result'],
      operationId: info.id,
      ...own.fields,
      durations: { ...own.durations, ...durations(info) },
      ...(info.error !== undefined && { error: info.error }),
    };
    const configFile = info.configFile;
    // One write at a time, so the ledger's order is the order in which operations ended.
    const write = Promise.all([...this.pendingWrites])
      .then(() => this.ledger(configFile, entry))
      .catch((err: unknown) =>
        this.logger.error(
          `could not record ${info.kind} ${info.id} in the ledger of ${configFile}: ${errorMessage(err)}`,
        ),
      )
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }

  private emitChanged(info: OperationInfo): void {
    for (const listener of this.changeListeners) {
      this.safely(() => listener({ ...info }), 'an operation/changed listener');
    }
  }

  private safely(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.logger.error(`${what} threw: ${errorMessage(err)}`);
    }
  }

  // --- the journal -----------------------------------------------------------------------------
  // Synchronous appends: the snapshot is in the file (the page cache, which survives a SIGKILL)
  // before start() or cancel() returns. They are a few hundred bytes, a few per operation.

  private journal(info: OperationInfo): void {
    try {
      this.ensureJournalFolder();
      appendFileSync(this.opts.journalFile, journalLine(info), { mode: 0o600 });
      if (++this.journalLines >= COMPACT_AFTER_LINES) this.compactJournal();
    } catch (err) {
      this.logger.error(`could not write the operations journal ${this.opts.journalFile}: ${errorMessage(err)}`);
    }
  }

  /** Rewrites the journal from memory: the active operations, then the kept finished ones. */
  private compactJournal(): void {
    const file = this.opts.journalFile;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      this.ensureJournalFolder();
      const active = [...this.active.values()].sort((a, b) => a.seq - b.seq).map((o) => o.info);
      const text = [...[...this.finished].reverse(), ...active].map(journalLine).join('');
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, file);
      this.journalLines = 0;
    } catch (err) {
      this.logger.error(`could not compact the operations journal ${file}: ${errorMessage(err)}`);
    }
  }

  private readJournal(): JournalLine[] {
    let text: string;
    try {
      text = readFileSync(this.opts.journalFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error(`could not read the operations journal ${this.opts.journalFile}: ${errorMessage(err)}`);
      }
      return [];
    }
    const lines: JournalLine[] = [];
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      try {
        const line = JSON.parse(raw) as Partial<JournalLine>;
        const op = line?.op;
        if (op && typeof op.id === 'string' && typeof op.state === 'string' && typeof op.kind === 'string') {
          lines.push({ pid: typeof line.pid === 'number' ? line.pid : 0, op });
        }
      } catch {
        // a torn last line
      }
    }
    return lines;
  }

  private ensureJournalFolder(): void {
    mkdirSync(dirname(this.opts.journalFile), { recursive: true, mode: 0o700 });
  }
}

function journalLine(info: OperationInfo): string {
  const line: JournalLine = { pid: process.pid, op: info };
  try {
    return `${JSON.stringify(line)}\n`;
  } catch {
    // A result that is not JSON (a cycle, a BigInt): journal the rest.
    const { result: _result, ...rest } = info;
    return `${JSON.stringify({ pid: process.pid, op: rest })}\n`;
  }
}

function waitingFor(running: OperationInfo): string {
  return `waiting for ${running.kind} of ${running.key} (${running.id})`;
}

function durations(info: OperationInfo): Record<string, number> {
  const t = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
  const queued = t(info.queuedAt);
  const started = t(info.startedAt);
  const ended = t(info.endedAt);
  const ms = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : 0);
  return {
    queuedMs: ms(queued, Number.isFinite(started) ? started : ended),
    runMs: Number.isFinite(started) ? ms(started, ended) : 0,
  };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : String(err);
}

/** The `ledger` part of a runner's result: extra durations (first) and fields for the ledger entry. */
function ledgerPart(result: unknown): { durations: Record<string, number>; fields: Record<string, unknown> } {
  const part = (result as { ledger?: unknown } | undefined)?.ledger;
  if (!part || typeof part !== 'object') return { durations: {}, fields: {} };
  const { durations: d, ...fields } = part as { durations?: unknown };
  const reserved = new Set(['at', 'kind', 'subject', 'key', 'result', 'operationId', 'error']);
  const numbers = Object.fromEntries(
    Object.entries(d && typeof d === 'object' ? d : {}).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
  return { durations: numbers, fields: Object.fromEntries(Object.entries(fields).filter(([k]) => !reserved.has(k))) };
}

/** The CLI exit code an error carries (InfraSandboxError: 2 bad input, 3 blocked, 4 tool missing). */
function exitCodeOf(err: unknown): number | undefined {
  const code = (err as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
}
