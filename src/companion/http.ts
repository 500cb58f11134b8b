/**
 * The companion's plain-HTTP side: who may ask (token, Origin, Host), the answers it writes, and
 * `POST /guard/decide`, the terminal shims' fast path. The WebSocket side is in ./server.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  LIMITS,
  TOKEN_HEADER,
  TOKEN_SUBPROTOCOL_PREFIX,
  type GuardDecideParams,
  type GuardDecideResult,
} from '../protocol/companion';
import { type ConfigCache, decideCommand } from './guardDecision';
import { guardDecideParams } from './rpc/params';
import type { CompanionStats } from './server';

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Why a request must be refused, or undefined: a browser Origin other than a VS Code webview
 * (403), a Host that is not loopback (403: DNS rebinding), a missing or wrong token (401).
 */
export function refuseRequest(req: IncomingMessage, token: string): readonly [number, string] | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && !origin.startsWith('vscode-webview://')) return [403, 'Forbidden'];
  if (!loopbackHost(req.headers.host)) return [403, 'Forbidden'];
  return tokenMatches(presentedToken(req), token) ? undefined : [401, 'Unauthorized'];
}

export function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers[TOKEN_HEADER];
  if (typeof header === 'string') return header.trim();
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols !== 'string') return undefined;
  for (const p of protocols.split(',')) {
    const name = p.trim();
    if (name.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return name.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  }
  return undefined;
}

/** Constant time over the content; a different length is refused without comparing anything. */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(token, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 from a shell script; a browser always sends Host
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
  return LOOPBACK_NAMES.has(name);
}

export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text.toLowerCase()}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** `POST /guard/decide`: GuardDecideParams in, GuardDecideResult out (JSON, or text for shells). */
export async function guardDecideOverHttp(
  req: IncomingMessage,
  res: ServerResponse,
  configs: ConfigCache,
  stats: CompanionStats,
): Promise<void> {
  const bad = (status: number, message: string) => {
    stats.refusedHttp++;
    send(res, status, 'application/json', `${JSON.stringify({ error: message })}\n`);
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > LIMITS.maxHttpBodyBytes) {
    bad(413, `the body is larger than ${LIMITS.maxHttpBodyBytes} bytes`);
    req.destroy();
    return;
  }
  let body: string;
  try {
    body = await readBody(req, LIMITS.maxHttpBodyBytes);
  } catch {
    if (!res.headersSent) bad(413, `the body is larger than ${LIMITS.maxHttpBodyBytes} bytes`);
    req.destroy();
    return;
  }
  let params: unknown;
  try {
    params = JSON.parse(body);
  } catch {
    return bad(400, 'the body is not valid JSON');
  }
  const problem = guardDecideParams(params);
  if (problem) return bad(400, `invalid GuardDecideParams: ${problem}`);
  let result: GuardDecideResult;
  try {
    result = await decideCommand(params as GuardDecideParams, configs);
    stats.httpDecisions++;
  } catch (err) {
    return send(res, 500, 'application/json', `${JSON.stringify({ error: (err as Error).message })}\n`);
  }
  if (/\btext\/plain\b/.test(req.headers.accept ?? '')) {
    const text = `exit=${result.exitCode}\nexecutable=${result.executable ?? ''}\n\n${result.message}${result.missing ?? ''}`;
    return send(res, 200, 'text/plain; charset=utf-8', text);
  }
  send(res, 200, 'application/json', JSON.stringify(result));
}

export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new Error('too large'));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
