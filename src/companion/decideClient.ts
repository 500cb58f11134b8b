/**
 * `guard exec`'s question to a warm companion over plain HTTP. Kept apart from ./client.ts so that
 * `guard exec` loads neither the WebSocket nor the JSON-RPC library: it runs for every guarded
 * command typed in a terminal, and its start-up time is the user's.
 */
import { request } from 'node:http';
import type { GuardDecideParams, GuardDecideResult } from '../protocol/companion';
import { GUARD_DECIDE_PATH, TOKEN_HEADER } from '../protocol/companionWire';
import { isAlive, readCompanionInfo, runtimeDir } from './runtime';

/**
 * `guard exec`'s question to a warm companion: the decision for this command line, made with the
 * caller's working folder and environment (POST /guard/decide). Undefined — decide in-process —
 * when there is no companion, it does not accept the connection at once, or anything goes wrong.
 */
export function decideViaCompanion(
  params: GuardDecideParams,
  options: { runtimeDir?: string; connectTimeoutMs?: number; timeoutMs?: number } = {},
): Promise<GuardDecideResult | undefined> {
  const info = readCompanionInfo(options.runtimeDir ?? runtimeDir());
  if (!info || !isAlive(info.pid)) return Promise.resolve(undefined);
  const body = JSON.stringify(params);
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: GuardDecideResult | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      resolve(v);
    };
    const req = request(
      {
        host: '127.0.0.1',
        port: info.port,
        path: GUARD_DECIDE_PATH,
        method: 'POST',
        timeout: options.timeoutMs ?? 30_000,
        headers: {
          [TOKEN_HEADER]: info.token,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return done(undefined);
          try {
            done(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GuardDecideResult);
          } catch {
            done(undefined);
          }
        });
        res.on('error', () => done(undefined));
      },
    );
    // A live companion accepts at once on loopback; anything slower is not worth waiting for.
    const connectTimer = setTimeout(() => {
      if (!req.socket || req.socket.connecting) {
        req.destroy();
        done(undefined);
      }
    }, options.connectTimeoutMs ?? 100);
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(undefined));
    req.end(body);
  });
}
