// Malformed and oversized input (SPEC §6 "Malformed or oversized messages get an error; the
// connection and the server keep working"; issue #4). 1,000 frames from a seeded PRNG on one
// connection, while a second, well-behaved client keeps asking Hello and must get every answer.
// Each frame's fate is known by construction and checked in order, down to the id's exact text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Companion } from '../../../src/companion/server';
import { ErrorCodes, Hello, LIMITS } from '../../../src/protocol/companion';
import { RawClient, rpcClient, testCompanion } from '../../helpers/companion';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let companion: Companion;
before(async () => {
  companion = await testCompanion();
});
after(() => companion.close());

/** mulberry32: small, fast, and the same frames on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Expect =
  | { kind: 'error'; code: number; id: string } // id: the raw JSON text expected back ("null" when unusable)
  | { kind: 'silent' }
  | { kind: 'close' };

interface Frame {
  data: string | Buffer;
  binary?: boolean;
  expect: Expect;
  label: string;
}

const PARSE = -32700;
const INVALID = -32600;
const NO_METHOD = -32601;
const BAD_PARAMS = -32602;

function generator(seed: number) {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const str = (n: number) =>
    Array.from({ length: n }, () =>
      String.fromCharCode(pick([32 + int(95), int(0xd7ff), 0x22, 0x5c, 0x7b, 0x5b])),
    ).join('');
  /** Ids as a client might write them: their exact text must come back. */
  const rawIds = [
    '1e308',
    '-1e308',
    '12345678901234567890',
    '-9007199254740993',
    '-0',
    '1.5e-300',
    '-42',
    '0',
    '3.14159',
    '1E+2',
    `"${'x'.repeat(10_000)}"`,
    '"\\u0041\\n\\"quoted\\""',
    '"日本語-ид-🙂"',
    '""',
  ];
  const anyId = () => (r() < 0.5 ? pick(rawIds) : String(int(1_000_000)));
  const wrongIds = ['{}', '[]', '[1]', 'true', 'false', 'null', '{"a":1}'];
  const notObjectParams = ['"x"', '5', 'true', 'null'];
  const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
  const known = [
    'companion/hello',
    'operation/start',
    'operation/cancel',
    'operation/list',
    'guard/check',
    'guard/decide',
    'ledger/query',
    'sandbox/list',
  ];
  const badParams: [string, string][] = [
    ['guard/check', '{}'],
    ['guard/check', '{"cwd":"relative/path"}'],
    ['guard/check', `{"cwd":"/","hosts":${deep(5000, '[', ']')}}`],
    ['guard/decide', '{"argv":[],"cwd":"/","env":{}}'],
    ['guard/decide', '{"argv":["ls"],"cwd":"/","env":{"A":1}}'],
    ['guard/decide', '{"argv":"ls","cwd":"/","env":{}}'],
    ['operation/start', '{"kind":5,"key":"k"}'],
    ['operation/start', '{"kind":"x","key":""}'],
    ['operation/start', `{"kind":"x","key":"k","params":${deep(100, '{"a":', '}')}}`],
    ['operation/cancel', '{"id":3}'],
    ['operation/cancel', '[]'],
    ['operation/list', '{"finished":-1}'],
    ['operation/list', '{"finished":1.5}'],
    ['ledger/query', '{"configFile":"relative.yaml"}'],
    ['ledger/query', '{"configFile":"/x/infra-sandbox.yaml","limit":"all"}'],
    ['sandbox/list', '{}'],
    ['companion/hello', '[1,2]'],
    ['companion/hello', '[5]'],
    ['operation/kinds', '["a"]'],
  ];

  return (): Frame => {
    const roll = int(100);
    const id = anyId();
    if (roll < 14) {
      // Not JSON at all.
      let text: string;
      do {
        text = pick([
          () => `{${str(1 + int(40))}`,
          () => `{"jsonrpc":"2.0","id":${id},"method":"companion/hello"`,
          () => `{"jsonrpc":"2.0","id":1,}`,
          () => "{'jsonrpc':'2.0'}",
          () => 'NaN',
          () => '',
          () => `[${str(int(20))}`,
          () => `{"jsonrpc":"2.0","id":1e400x}`,
        ])();
      } while (parses(text));
      return { data: text, expect: { kind: 'error', code: PARSE, id: 'null' }, label: 'invalid JSON' };
    }
    if (roll < 30) {
      // JSON, but not a JSON-RPC 2.0 message object.
      const m = pick(known);
      const v = int(10);
      const cases: [string, string][] = [
        [`{"id":${id},"method":"${m}"}`, id],
        [`{"jsonrpc":"1.0","id":${id},"method":"${m}"}`, id],
        [`{"jsonrpc":2,"id":${id},"method":"${m}"}`, id],
        [`{"jsonrpc":"2.0","id":${id},"method":${pick(['5', 'null', '{}', '["x"]', 'true'])}}`, id],
        [`{"jsonrpc":"2.0","id":${pick(wrongIds)},"method":"${m}"}`, 'null'],
        [`{"jsonrpc":"2.0","id":${id},"method":"${m}","params":${pick(notObjectParams)}}`, id],
        [pick(['5', '"str"', 'null', 'true', '-1e308']), 'null'],
        [`{"jsonrpc":"2.0","id":${id}}`, id],
        [`{"jsonrpc":"2.0","id":${deep(3000, '[', ']')},"method":"${m}"}`, 'null'],
        [`{"jsonrpc":"2.0","id":${id},"result":1,"method":7}`, id],
      ];
      const [text, expectId] = cases[v];
      return { data: text, expect: { kind: 'error', code: INVALID, id: expectId }, label: 'not JSON-RPC' };
    }
    if (roll < 38) {
      // Batches (not supported) and binary frames.
      if (r() < 0.5) {
        const text = pick([
          '[]',
          `[{"jsonrpc":"2.0","id":1,"method":"companion/hello"}]`,
          '[1,2,3]',
          deep(20_000, '[', ']'),
        ]);
        return { data: text, expect: { kind: 'error', code: INVALID, id: 'null' }, label: 'batch' };
      }
      const bytes = Buffer.from(
        r() < 0.5
          ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'companion/hello' })
          : Array.from({ length: 1 + int(64) }, () => int(256)),
      );
      return { data: bytes, binary: true, expect: { kind: 'error', code: INVALID, id: 'null' }, label: 'binary' };
    }
    if (roll < 60) {
      // Unknown methods, with every kind of id.
      const method = pick([
        'nope',
        '',
        'rpc.discover',
        '$/cancelRequest',
        'companion/hello ',
        'Companion/Hello',
        `x/${str(int(30))}`,
        'a'.repeat(5000),
        'sandbox/up',
      ]);
      const params = pick(['', ',"params":{}', ',"params":[]', `,"params":${deep(2000, '{"a":', '}')}`]);
      return {
        data: `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"id":${id}${params}}`,
        expect: { kind: 'error', code: NO_METHOD, id },
        label: 'unknown method',
      };
    }
    if (roll < 82) {
      const [method, params] = pick(badParams);
      // Members in any order: the id may come last, or twice (the last one counts).
      const text =
        r() < 0.5
          ? `{"id":${id},"params":${params},"method":"${method}","jsonrpc":"2.0"}`
          : `{"jsonrpc":"2.0","id":"first","method":"${method}","params":${params},"id":${id}}`;
      return { data: text, expect: { kind: 'error', code: BAD_PARAMS, id }, label: 'wrong params' };
    }
    // Notifications: never answered, whatever they say.
    const text = pick([
      `{"jsonrpc":"2.0","method":"${pick(known)}"}`,
      `{"jsonrpc":"2.0","method":"nope","params":[1,2,3]}`,
      `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":${id}}}`,
      `{"jsonrpc":"2.0","method":"$/cancelRequest"}`,
      `{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"verbose"}}`,
      `{"jsonrpc":"2.0","method":"guard/check","params":5}`,
      `{"jsonrpc":"2.0","method":"x","params":${deep(3000, '[', ']')}}`,
    ]);
    return { data: text, expect: { kind: 'silent' }, label: 'notification' };
  };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

describe('companion fuzz', () => {
  it('1,000 fuzzed frames: each gets its error (or a 1009 close, or silence for a notification); a well-behaved client is served throughout', async () => {
    const TOTAL = 1000;
    const OVERSIZED = 5;
    const next = generator(0x15b_2026);
    const frames: Frame[] = [];
    for (let i = 0; i < TOTAL - OVERSIZED; i++) frames.push(next());
    for (let i = 0; i < OVERSIZED; i++) {
      const size = LIMITS.maxMessageBytes + 1 + i * 4096;
      const filler = 'a'.repeat(size - 60);
      frames.splice(100 + i * 150, 0, {
        data: `{"jsonrpc":"2.0","id":1,"method":"companion/hello","params":{"x":"${filler}"}}`,
        expect: { kind: 'close' },
        label: 'oversized',
      });
    }
    assert.equal(frames.length, TOTAL);

    const heapBefore = heapMB();
    const good = await rpcClient(companion);
    let fuzzing = true;
    let hellos = 0;
    const goodLoop = (async () => {
      while (fuzzing) {
        const h = await good.sendRequest(Hello);
        assert.equal(h.pid, process.pid);
        hellos++;
      }
    })();

    const fuzz = await RawClient.open(companion);
    const closes: Promise<{ code: number }>[] = [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (f.expect.kind === 'close') {
        const own = await RawClient.open(companion);
        own.send(f.data);
        closes.push(own.closed);
        continue;
      }
      fuzz.send(f.data, f.binary === true);
      if (i % 25 === 24) await new Promise((r) => setImmediate(r));
    }
    // A last request marks the end: every answer before it belongs to a fuzz frame, in order.
    fuzz.send('{"jsonrpc":"2.0","id":"end-of-fuzz","method":"no/such"}');
    const answers: string[] = [];
    for (;;) {
      const raw = await fuzz.nextRaw(10_000);
      if (raw.includes('"id":"end-of-fuzz"')) break;
      answers.push(raw);
    }
    const closeCodes = await Promise.all(closes);
    fuzzing = false;
    await goodLoop;

    const expected = frames.filter((f) => f.expect.kind === 'error');
    assert.equal(answers.length, expected.length, 'one answer per frame that needs one');
    expected.forEach((f, i) => {
      const e = f.expect as Extract<Expect, { kind: 'error' }>;
      const prefix = `{"jsonrpc":"2.0","id":${e.id},"error":{"code":${e.code},`;
      assert.ok(
        answers[i].startsWith(prefix),
        `frame ${frames.indexOf(f)} (${f.label}): expected ${prefix.slice(0, 120)}… got ${answers[i].slice(0, 200)}`,
      );
    });
    for (const c of closeCodes) assert.equal(c.code, 1009);

    // Still alive, still serving both connections and new ones.
    assert.equal(fuzz.ws.readyState, fuzz.ws.OPEN);
    fuzz.send('{"jsonrpc":"2.0","id":1,"method":"companion/hello"}');
    assert.equal(((await fuzz.next()).result as { pid: number }).pid, process.pid);
    const fresh = await rpcClient(companion);
    assert.equal((await fresh.sendRequest(Hello)).pid, process.pid);
    assert.ok(hellos > 10, `the well-behaved client was answered ${hellos} times`);
    await fresh.close();
    await good.close();
    fuzz.close();
    await fuzz.closed;
    answers.length = 0;
    const growth = heapMB() - heapBefore;
    assert.ok(growth < 32, `heap grew ${growth.toFixed(1)} MB`);

    const silent = frames.filter((f) => f.expect.kind === 'silent').length;
    console.log(
      `companion fuzz: ${frames.length} frames sent, ${expected.length} error responses, ${closeCodes.length} closes (oversized), ${silent} silent (notifications), server alive: yes, heap ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (well-behaved client: ${hellos} Hello answered)`,
    );
  });

  it('odd ids come back exactly as written, through a real handler too', async () => {
    const client = await RawClient.open(companion);
    for (const id of ['1e308', '12345678901234567890', '-0', '-7', '1.50', `"${'z'.repeat(20_000)}"`, '"\\u0041"']) {
      client.send(`{"jsonrpc":"2.0","id":${id},"method":"companion/hello"}`);
      const raw = await client.nextRaw();
      assert.ok(raw.startsWith(`{"jsonrpc":"2.0","id":${id},"result":{`), raw.slice(0, 80));
    }
    client.close();
  });

  it('the same id twice: both requests are answered', async () => {
    const client = await RawClient.open(companion);
    client.send('{"jsonrpc":"2.0","id":5,"method":"companion/hello"}');
    client.send('{"jsonrpc":"2.0","id":5,"method":"operation/kinds"}');
    const a = await client.next();
    const b = await client.next();
    assert.deepEqual([a.id, b.id], [5, 5]);
    assert.ok((a.result as { pid?: number }).pid);
    assert.deepEqual(b.result, ['sandbox.destroy', 'sandbox.start', 'sandbox.stop', 'sandbox.up']);
    client.close();
  });

  it(`more than ${LIMITS.maxPendingPerClient} unanswered requests: the extra ones get PendingLimit and do not run; every request is answered once`, async () => {
    const client = await RawClient.open(companion);
    const handledBefore = companion.stats().handledRequests;
    const N = 300;
    for (let i = 0; i < N; i++) client.send(`{"jsonrpc":"2.0","id":${i},"method":"companion/hello"}`);
    const seen = new Map<number, Record<string, unknown>>();
    while (seen.size < N) {
      const m = await client.next();
      assert.ok(!seen.has(m.id as number), `id ${String(m.id)} answered twice`);
      seen.set(m.id as number, m);
    }
    const limited = [...seen.values()].filter((m) => (m.error as { code?: number })?.code === ErrorCodes.PendingLimit);
    const ok = [...seen.values()].filter((m) => m.result);
    assert.equal(limited.length + ok.length, N);
    assert.ok(limited.length > 0, 'the burst hit the limit');
    assert.equal(
      companion.stats().handledRequests - handledBefore,
      ok.length,
      'refused requests never reached a handler',
    );
    // Once answered, the client may send again.
    client.send('{"jsonrpc":"2.0","id":"again","method":"companion/hello"}');
    assert.equal((await client.next()).id, 'again');
    client.close();
  });
});
