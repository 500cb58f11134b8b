// Helpers for the companion tests: an in-process companion in temporary folders, a raw WebSocket
// client that sees every frame (for the protocol's edges), and an upgrade attempt that reports
// the HTTP status of a refusal. Everything connects to 127.0.0.1 only.
import { WebSocket, type ClientOptions } from 'ws';
import { connectCompanion, type CompanionConnection } from '../../src/companion/client';
import { startCompanion, type Companion, type CompanionOptions } from '../../src/companion/server';
import { TOKEN_HEADER } from '../../src/protocol/companion';
import { tempDir } from './tmp';

/** A companion on a random port with its own runtime and state folders; never exits when idle. */
export function testCompanion(opts: CompanionOptions = {}): Promise<Companion> {
  return startCompanion({
    idleTimeoutMs: 0,
    runtimeDir: tempDir('companion-run'),
    stateDir: tempDir('companion-state'),
    ...opts,
  });
}

/** A vscode-jsonrpc client of this companion (header token), like the CLI's and the extension's. */
export async function rpcClient(companion: Companion): Promise<CompanionConnection> {
  const c = await connectCompanion({ info: companion.info, timeoutMs: 2000 });
  if (!c) throw new Error(`could not connect to the companion on port ${companion.port}`);
  return c;
}

export type UpgradeResult = { status: number; ws?: undefined } | { status: 101; ws: WebSocket };

/** Tries a WebSocket upgrade; a refusal resolves with its HTTP status (and no socket). */
export function tryUpgrade(
  port: number,
  opts: { headers?: Record<string, string>; protocols?: string[]; options?: ClientOptions } = {},
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, opts.protocols ?? [], {
      headers: opts.headers,
      perMessageDeflate: false,
      ...opts.options,
    });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', (err) => reject(err));
  });
}

/** A WebSocket that queues every frame it receives, for tests that look at the wire. */
export class RawClient {
  readonly frames: string[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? `<binary ${String((data as Buffer).length)}>` : (data as Buffer).toString('utf8'));
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('error', () => {});
  }

  static async open(companion: Pick<Companion, 'port' | 'token'>): Promise<RawClient> {
    const r = await tryUpgrade(companion.port, { headers: { [TOKEN_HEADER]: companion.token } });
    if (!r.ws) throw new Error(`upgrade refused: ${r.status}`);
    return new RawClient(r.ws);
  }

  send(frame: string | Buffer, binary = false): void {
    this.ws.send(frame, { binary });
  }

  /** The next frame (parsed), waiting at most timeoutMs. */
  async next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    return JSON.parse(await this.nextRaw(timeoutMs)) as Record<string, unknown>;
  }

  /** The next frame's text, exactly as it came. */
  async nextRaw(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame within the timeout');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.shift() as string;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Polls until `check` returns a value other than undefined/false. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
