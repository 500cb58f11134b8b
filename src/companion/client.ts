/**
 * Reaching a running companion: read companion.json, connect to 127.0.0.1:PORT with the token,
 * and get a vscode-jsonrpc MessageConnection. Used by the CLI (`serve --stop/--status`, `ops`)
 * and by the extension. Quick to say "none": no file, a dead pid, or no answer within timeoutMs.
 */
import { request } from 'node:http';
import { WebSocket } from 'ws';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { HEALTH_PATH, LIMITS, TOKEN_HEADER, type CompanionInfo } from '../protocol/companionWire';
import { createWsConnection } from './rpc/wsConnection';
import { isAlive, readCompanionInfo, runtimeDir } from './runtime';

export interface ConnectOptions {
  /** Give up after this long (default 1000 ms). */
  timeoutMs?: number;
  /** Default: the user's runtime folder (runtimeDir()). */
  runtimeDir?: string;
  /** Connect to this companion instead of reading companion.json. */
  info?: CompanionInfo;
}

export type CompanionConnection = MessageConnection & {
  /** The companion this connection reached. */
  readonly info: CompanionInfo;
  readonly socket: WebSocket;
  /** Closes the socket (the connection is disposed; pending requests are rejected). */
  close(): Promise<void>;
};

/** A listening connection to the running companion, or undefined when none answers in time. */
export async function connectCompanion(options: ConnectOptions = {}): Promise<CompanionConnection | undefined> {
  const info = options.info ?? readCompanionInfo(options.runtimeDir ?? runtimeDir());
  if (!info || !isAlive(info.pid)) return undefined;
  const timeoutMs = options.timeoutMs ?? 1000;
  const ws = await new Promise<WebSocket | undefined>((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${info.port}/`, {
      headers: { [TOKEN_HEADER]: info.token },
      handshakeTimeout: timeoutMs,
      maxPayload: 64 * LIMITS.maxMessageBytes,
      perMessageDeflate: false,
    });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve(undefined);
    }, timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      socket.terminate();
      resolve(undefined);
    });
  });
  if (!ws) return undefined;
  ws.on('error', () => {}); // reported through the connection's onError / onClose
  const connection = createWsConnection(ws);
  const close = () =>
    new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close(1000);
      setTimeout(() => ws.terminate(), 500).unref();
    });
  const result = Object.assign(connection, { info, socket: ws, close });
  connection.listen();
  return result;
}

/** Whether something answers `GET /healthz` on the port (without the token: it says nothing else). */
export function healthy(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: HEALTH_PATH, method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
