/**
 * A vscode-jsonrpc MessageConnection over one `ws` WebSocket: one JSON-RPC message per text frame,
 * no Content-Length framing. The companion uses it for each client, and the clients (CLI,
 * extension) for their one connection.
 *
 * On the server side the reader screens every frame before vscode-jsonrpc sees it, and answers bad
 * input itself: invalid JSON → -32700; anything that is not one JSON-RPC 2.0 request, notification
 * or response object (a batch, a binary frame, a wrong `jsonrpc`, `method` or `id` type, params
 * that are neither object nor array) → -32600; an unknown method → -32601; wrong params → -32602;
 * more than `maxPending` unanswered requests → PendingLimit, without running it. Notifications are
 * never answered. Each request's id is replaced by an internal number while it runs and the
 * client's id is written back into the response *as the client spelled it* (1e308, a long string,
 * 12345678901234567890 …), so odd ids are echoed exactly and duplicate ids cannot collide.
 */
import type { WebSocket } from 'ws';
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  createMessageConnection,
  ErrorCodes as RpcErrorCodes,
  type DataCallback,
  type Disposable,
  type Logger as RpcLogger,
  type Message,
  type MessageConnection,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../protocol/companion';

export interface RpcError {
  code: number;
  message: string;
}

export interface ServerSideOptions {
  /** Unanswered requests allowed; one more is refused with PendingLimit (LIMITS.maxPendingPerClient). */
  maxPending: number;
  /** Checks a request before it runs: unknown method → -32601, wrong params → -32602; undefined → run it. */
  checkRequest(method: string, params: unknown): RpcError | undefined;
  /** Told about every frame the reader answered (or dropped) itself; for counters and logs. */
  onRejected?(error: RpcError): void;
}

export interface WsConnectionOptions {
  /** Present on the companion's side: screen frames and answer bad input (see above). */
  server?: ServerSideOptions;
  /** Bytes queued on the socket past which the peer counts as stuck and is disconnected (default 16 MiB). */
  maxBufferedBytes?: number;
  logger?: RpcLogger;
}

const SILENT: RpcLogger = { error() {}, warn() {}, info() {}, log() {} };
const CANCEL_METHOD = '$/cancelRequest';
/** Messages that arrive before listen() (a client registering its handlers) are kept, up to this many. */
const MAX_EARLY_MESSAGES = 1000;

/**
 * A MessageConnection on an open WebSocket. Call `listen()` in the same turn (earlier frames are
 * kept until then). When the socket closes the connection fires onClose and is disposed, which
 * rejects the requests still waiting for an answer.
 */
export function createWsConnection(ws: WebSocket, options: WsConnectionOptions = {}): MessageConnection {
  const channel = new Channel(ws, options);
  const connection = createMessageConnection(channel.reader, channel.writer, options.logger ?? SILENT);
  ws.on('close', () => {
    channel.closed();
    connection.dispose();
  });
  ws.on('error', (err) => channel.reader.error(err));
  return connection;
}

/** State shared by the reader and the writer of one socket. */
class Channel {
  readonly reader: Reader;
  readonly writer: Writer;
  /** Internal id → the client's id as it was written (JSON text). */
  private readonly pending = new Map<number, string>();
  /** The client's id (normalised JSON) → internal id, for `$/cancelRequest`. */
  private readonly byClientId = new Map<string, number>();
  private nextId = 1;
  private readonly maxBuffered: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WsConnectionOptions,
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.reader = new Reader(this);
    this.writer = new Writer(this);
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
  }

  get isServer(): boolean {
    return this.options.server !== undefined;
  }

  closed(): void {
    this.pending.clear();
    this.byClientId.clear();
    this.reader.close();
    this.writer.close();
  }

  /** Sends one text frame; false when the socket is not open. A peer that does not read is dropped. */
  send(text: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.ws.terminate();
      return false;
    }
    this.ws.send(text);
    return true;
  }

  // --- reading ---------------------------------------------------------------------------------

  private receive(data: unknown, isBinary: boolean): void {
    const server = this.options.server;
    const text = isBinary ? undefined : toText(data);
    if (!server) {
      const message = text === undefined ? undefined : parse(text);
      if (message && typeof message === 'object' && !Array.isArray(message)) this.reader.deliver(message as Message);
      else this.reader.error(new Error('the peer sent a frame that is not a JSON-RPC message'));
      return;
    }
    if (text === undefined)
      return this.reject(null, RpcErrorCodes.InvalidRequest, 'binary frames are not accepted; send JSON text');
    const value = parse(text);
    if (value === PARSE_ERROR)
      return this.reject(null, RpcErrorCodes.ParseError, 'parse error: the frame is not valid JSON');
    if (Array.isArray(value))
      return this.reject(null, RpcErrorCodes.InvalidRequest, 'batches are not supported; send one message per frame');
    if (!value || typeof value !== 'object') {
      return this.reject(null, RpcErrorCodes.InvalidRequest, 'a JSON-RPC message is an object');
    }
    const msg = value as Record<string, unknown>;
    const hasId = Object.prototype.hasOwnProperty.call(msg, 'id');
    const idOk = hasId && (typeof msg.id === 'string' || (typeof msg.id === 'number' && Number.isFinite(msg.id)));
    const rawId = idOk ? (rawMember(text, 'id') ?? JSON.stringify(msg.id)) : null;
    if (msg.jsonrpc !== '2.0') return this.reject(rawId, RpcErrorCodes.InvalidRequest, 'jsonrpc must be "2.0"');

    if (!Object.prototype.hasOwnProperty.call(msg, 'method')) {
      // A response: the companion sends no requests, so there is nothing it answers; never reply to one.
      if (hasId && ('result' in msg || 'error' in msg))
        return server.onRejected?.({ code: 0, message: 'response ignored' });
      return this.reject(rawId, RpcErrorCodes.InvalidRequest, 'not a request, notification or response');
    }
    if (typeof msg.method !== 'string')
      return this.reject(rawId, RpcErrorCodes.InvalidRequest, 'method must be a string');
    if (hasId && !idOk) {
      return this.reject(null, RpcErrorCodes.InvalidRequest, 'id must be a string or a number');
    }
    const params = msg.params;
    if (params !== undefined && (params === null || typeof params !== 'object')) {
      return hasId
        ? this.reject(rawId, RpcErrorCodes.InvalidRequest, 'params must be an object or an array')
        : server.onRejected?.({ code: 0, message: 'notification ignored' });
    }

    if (!hasId) return this.notification(msg.method, params);

    if (this.pending.size >= server.maxPending) {
      return this.reject(
        rawId,
        ErrorCodes.PendingLimit,
        `too many requests waiting for an answer (at most ${server.maxPending}); wait for the answers first`,
      );
    }
    const refused = server.checkRequest(msg.method, params);
    if (refused) return this.reject(rawId, refused.code, refused.message);
    const id = this.nextId++;
    this.pending.set(id, rawId as string);
    this.byClientId.set(JSON.stringify(msg.id), id);
    this.reader.deliver({ jsonrpc: '2.0', id, method: msg.method, ...(params !== undefined && { params }) } as Message);
  }

  /** Notifications are never answered: `$/cancelRequest` of a running request goes through, the rest is dropped. */
  private notification(method: string, params: unknown): void {
    const clientId = (params as { id?: unknown } | undefined)?.id;
    const id =
      method === CANCEL_METHOD && (typeof clientId === 'string' || typeof clientId === 'number')
        ? this.byClientId.get(JSON.stringify(clientId))
        : undefined;
    if (id === undefined) {
      this.options.server?.onRejected?.({ code: 0, message: `notification ${method} ignored` });
      return;
    }
    this.reader.deliver({ jsonrpc: '2.0', method, params: { id } } as Message);
  }

  private reject(rawId: string | null, code: number, message: string): void {
    this.options.server?.onRejected?.({ code, message });
    this.send(`{"jsonrpc":"2.0","id":${rawId ?? 'null'},"error":${JSON.stringify({ code, message })}}`);
  }

  // --- writing ---------------------------------------------------------------------------------

  serialize(msg: Message): string {
    const response = msg as { id?: unknown; method?: unknown };
    if (!this.isServer || typeof response.id !== 'number' || response.method !== undefined) return JSON.stringify(msg);
    const rawId = this.pending.get(response.id);
    if (rawId === undefined) return JSON.stringify(msg);
    this.pending.delete(response.id);
    for (const [key, value] of this.byClientId) {
      if (value === response.id) {
        this.byClientId.delete(key);
        break;
      }
    }
    const { jsonrpc: _jsonrpc, id: _id, ...rest } = msg as unknown as Record<string, unknown>;
    let body: string;
    try {
      body = JSON.stringify(rest);
    } catch (err) {
      body = JSON.stringify({
        error: {
          code: RpcErrorCodes.InternalError,
          message: `the result could not be sent: ${(err as Error).message}`,
        },
      });
    }
    return `{"jsonrpc":"2.0","id":${rawId}${body.length > 2 ? `,${body.slice(1)}` : '}'}`;
  }
}

class Reader extends AbstractMessageReader {
  private callback: DataCallback | undefined;
  private early: Message[] = [];

  constructor(private readonly channel: Channel) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const early = this.early;
    this.early = [];
    for (const message of early) callback(message);
    return { dispose: () => (this.callback = undefined) };
  }

  deliver(message: Message): void {
    if (this.callback) this.callback(message);
    else if (this.early.length < MAX_EARLY_MESSAGES) this.early.push(message);
  }

  error(err: unknown): void {
    this.fireError(err);
  }

  close(): void {
    this.early = [];
    this.fireClose();
  }
}

class Writer extends AbstractMessageWriter implements MessageWriter {
  constructor(private readonly channel: Channel) {
    super();
  }

  write(msg: Message): Promise<void> {
    let text: string;
    try {
      text = this.channel.serialize(msg);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.channel.send(text) || this.channel.isServer) return Promise.resolve();
    return Promise.reject(new Error('the companion connection is closed'));
  }

  end(): void {}

  close(): void {
    this.fireClose();
  }
}

// ---------------------------------------------------------------------------------------------

const PARSE_ERROR = Symbol('parse error');

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return PARSE_ERROR;
  }
}

function toText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return String(data);
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * The JSON text of a top-level member of an object, as written (the last one when repeated, as
 * JSON.parse does). `text` must already have parsed as a JSON object.
 */
export function rawMember(text: string, key: string): string | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && WHITESPACE.has(text[i])) i++;
  };
  const skipString = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    if (text[i] === '"') return skipString();
    if (text[i] !== '{' && text[i] !== '[') {
      while (i < text.length && !WHITESPACE.has(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
      return;
    }
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      i++;
      if (depth === 0) return;
    }
  };
  let found: string | undefined;
  space();
  if (text[i] !== '{') return undefined;
  i++;
  space();
  if (text[i] === '}') return undefined;
  while (i < text.length) {
    space();
    const keyStart = i;
    skipString();
    const name = JSON.parse(text.slice(keyStart, i)) as string;
    space();
    i++; // ':'
    space();
    const valueStart = i;
    skipValue();
    if (name === key) found = text.slice(valueStart, i);
    space();
    if (text[i] !== ',') break;
    i++;
  }
  return found;
}
