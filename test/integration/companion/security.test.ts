// The companion's door (SPEC §6, §10; issue #4): loopback only, a token on every connection,
// no browser origins. Real sockets against an in-process companion; the only addresses contacted
// are 127.0.0.1 and this machine's own interface addresses (to show the port is closed there).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCompanionInfo } from '../../../src/companion/runtime';
import { tokenMatches, type Companion } from '../../../src/companion/server';
import { Hello, SUBPROTOCOL, TOKEN_HEADER, TOKEN_SUBPROTOCOL_PREFIX } from '../../../src/protocol/companion';
import { RawClient, rpcClient, testCompanion, tryUpgrade } from '../../helpers/companion';
import { tempDir } from '../../helpers/tmp';

let companion: Companion;
/** Runs of the test operation kind: a refused client must never cause one. */
let runs = 0;
/** Runs counted before any authenticated client started one. */
let ranByRefused: number | undefined;
let refused = 0;
let tokenFileMode = '';
let nonLoopbackReachable: boolean | undefined;

before(async () => {
  companion = await testCompanion({
    operations: (m) =>
      m.register('test.count', async () => {
        runs++;
      }),
  });
});
after(async () => {
  await companion.close();
  console.log(
    `companion security: ${refused} refused upgrades (401/403), ${ranByRefused ?? '?'} operations run by them, token file ${tokenFileMode}, non-loopback reachable: ${nonLoopbackReachable === false ? 'no' : 'YES'}`,
  );
});

function wrongToken(): string {
  const t = companion.token;
  return `${t.slice(0, -1)}${t.endsWith('0') ? '1' : '0'}`;
}

/** A raw upgrade request over TCP, to see exactly what comes back (the status line, no 101). */
function rawUpgrade(headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(companion.port, '127.0.0.1', () => {
      const lines = [
        'GET / HTTP/1.1',
        `Host: 127.0.0.1:${companion.port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function http(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: companion.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('companion security', () => {
  it('refuses an upgrade without a token, with a wrong token, or with a token of the wrong length: 401, no WebSocket', async () => {
    const before = companion.stats();
    const cases: Record<string, string>[] = [
      {},
      { [TOKEN_HEADER]: wrongToken() },
      { [TOKEN_HEADER]: companion.token.slice(0, 32) },
      { [TOKEN_HEADER]: `${companion.token}00` },
      { [TOKEN_HEADER]: '' },
      { 'Sec-WebSocket-Protocol': `${SUBPROTOCOL}, ${TOKEN_SUBPROTOCOL_PREFIX}${wrongToken()}` },
    ];
    for (const headers of cases) {
      const r = await tryUpgrade(companion.port, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      refused++;
    }
    const raw = await rawUpgrade({});
    refused++;
    assert.match(raw, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.doesNotMatch(raw, /101|Sec-WebSocket-Accept/i);
    const after = companion.stats();
    assert.equal(after.connections, before.connections, 'no WebSocket was accepted');
    assert.equal(after.handledRequests, before.handledRequests, 'no handler ran');
    assert.equal(after.refusedUpgrades - before.refusedUpgrades, cases.length + 1);
    assert.equal(runs, 0);
    assert.deepEqual(companion.manager.list(), []);
  });

  it('refuses a browser Origin even with the right token (403); a VS Code webview origin is accepted', async () => {
    const before = companion.stats();
    for (const origin of ['https://evil.example', 'http://127.0.0.1:8080', 'null', 'file://']) {
      const r = await tryUpgrade(companion.port, { headers: { [TOKEN_HEADER]: companion.token, Origin: origin } });
      assert.equal(r.status, 403, origin);
      refused++;
    }
    // A page that rebinds its own DNS name to 127.0.0.1 still sends its Host: refused too.
    const rebound = await tryUpgrade(companion.port, {
      headers: { [TOKEN_HEADER]: companion.token, Host: `evil.example:${companion.port}` },
    });
    assert.equal(rebound.status, 403);
    refused++;
    const raw = await rawUpgrade({ [TOKEN_HEADER]: companion.token, Origin: 'https://evil.example' });
    refused++;
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n/);
    const after = companion.stats();
    assert.equal(after.connections, before.connections);
    assert.equal(after.handledRequests, before.handledRequests);
    assert.equal(runs, 0);

    const webview = await tryUpgrade(companion.port, {
      headers: { [TOKEN_HEADER]: companion.token, Origin: 'vscode-webview://1a2b3c' },
    });
    assert.equal(webview.status, 101);
    webview.ws?.close();
  });

  it('accepts the token in the subprotocol and answers with infra-sandbox.v1 (never echoing the token)', async () => {
    const r = await tryUpgrade(companion.port, {
      protocols: [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${companion.token}`],
    });
    assert.equal(r.status, 101);
    assert.ok(r.ws);
    assert.equal(r.ws.protocol, SUBPROTOCOL);
    r.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: Hello.method }));
    const reply = await new Promise<Record<string, unknown>>((resolve) =>
      r.ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>)),
    );
    assert.equal((reply.result as { pid: number }).pid, process.pid);
    r.ws.close();
  });

  it('the right token in the header works, through the same client the CLI and the extension use', async () => {
    const c = await rpcClient(companion);
    const hello = await c.sendRequest(Hello);
    assert.equal(hello.pid, process.pid);
    await c.close();
  });

  it('compares tokens in constant time and refuses any length mismatch', () => {
    const t = 'a'.repeat(64);
    assert.equal(tokenMatches(t, t), true);
    assert.equal(tokenMatches(`${t}a`, t), false);
    assert.equal(tokenMatches(t.slice(1), t), false);
    assert.equal(tokenMatches(undefined, t), false);
    assert.equal(tokenMatches('é'.repeat(32), t), false); // 64 bytes, not 64 characters of the token
  });

  it('plain HTTP: /healthz says ok and nothing else; the guard route needs the token and no browser; the rest is 404', async () => {
    const health = await http('GET', '/healthz');
    assert.deepEqual(health, { status: 200, body: 'ok\n' });
    assert.equal((await http('GET', '/')).status, 404);
    assert.equal((await http('GET', '/companion.json')).status, 404);
    assert.equal((await http('GET', '/guard/decide')).status, 404);
    const params = JSON.stringify({ argv: ['true'], cwd: '/', env: {} });
    const before = companion.stats();
    assert.equal((await http('POST', '/guard/decide', {}, params)).status, 401);
    assert.equal((await http('POST', '/guard/decide', { [TOKEN_HEADER]: wrongToken() }, params)).status, 401);
    const evil = await http(
      'POST',
      '/guard/decide',
      { [TOKEN_HEADER]: companion.token, Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      params,
    );
    assert.equal(evil.status, 403);
    assert.equal(companion.stats().handledRequests, before.handledRequests);
    assert.equal(runs, 0);
  });

  it('the token file is 0600 in a 0700 folder, and companion.env carries port and token for shells', async () => {
    const info = readCompanionInfo(companion.runtimeDir);
    assert.deepEqual(info, companion.info);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');
    tokenFileMode = mode(join(companion.runtimeDir, 'companion.json'));
    assert.equal(tokenFileMode, '0600');
    assert.equal(mode(join(companion.runtimeDir, 'companion.env')), '0600');
    assert.equal(mode(companion.runtimeDir), '0700');
    assert.equal(mode(companion.stateDir), '0700');
    const { readFileSync } = await import('node:fs');
    assert.equal(
      readFileSync(join(companion.runtimeDir, 'companion.env'), 'utf8'),
      `port=${companion.port}\ntoken=${companion.token}\n`,
    );
    assert.match(companion.token, /^[0-9a-f]{64}$/);
  });

  it('refuses a runtime folder that others can write, or that belongs to another user', async () => {
    const open = join(tempDir('companion-open'), 'run');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    await assert.rejects(testCompanion({ runtimeDir: open }), /writable by group or others \(mode 777\); refusing/);
    if (process.getuid?.() === 0) {
      const foreign = join(tempDir('companion-foreign'), 'run');
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 65534, 65534);
      await assert.rejects(testCompanion({ runtimeDir: foreign }), /belongs to another user \(uid 65534\)/);
    }
  });

  it('listens on 127.0.0.1 only: the port is closed on every other address of this machine', async () => {
    assert.equal(companion.address, '127.0.0.1');
    const own: { host: string; family: string }[] = [];
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (a.internal) continue;
        const host = a.family === 'IPv6' && a.scopeid ? `${a.address}%${name}` : a.address;
        own.push({ host, family: a.family });
      }
    }
    const outcomes = await Promise.all(
      own.map(
        ({ host }) =>
          new Promise<string>((resolve) => {
            const s = connect({ host, port: companion.port, timeout: 2000 });
            s.once('connect', () => {
              s.destroy();
              resolve('connected');
            });
            s.once('timeout', () => {
              s.destroy();
              resolve('timeout');
            });
            s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          }),
      ),
    );
    own.forEach(({ host }, i) => assert.equal(outcomes[i], 'ECONNREFUSED', `${host}:${companion.port}`));
    // Another loopback address is not the bound one either.
    const other = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.2', port: companion.port, timeout: 2000 });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? ''));
    });
    assert.equal(other, 'ECONNREFUSED');
    nonLoopbackReachable = outcomes.some((o) => o !== 'ECONNREFUSED');
    console.log(
      `  (checked ${own.length} non-internal interface addresses: ${own.map((o) => o.host).join(', ') || 'none'})`,
    );
  });

  it('a refused client never reaches a handler: an authenticated one does, and it runs the operation', async () => {
    ranByRefused = runs;
    assert.equal(ranByRefused, 0);
    const client = await RawClient.open(companion);
    client.send(
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'operation/start', params: { kind: 'test.count', key: 'k' } }),
    );
    const reply = await client.next();
    assert.equal((reply.result as { kind: string }).kind, 'test.count');
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs, 1, 'the authenticated client ran exactly one');
  });
});
