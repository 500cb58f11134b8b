// The companion (SPEC §9): JSON-RPC throughput and p99 latency with 5 clients over real WebSockets
// (budget: 1,000 requests/s with p99 ≤ 10 ms), and the guard's warm path — a command typed in a
// guarded terminal while the companion runs — against running the command directly (budget: p50 ≤
// 15 ms added). The companion is `node dist/cli.js serve` in its own process; clients speak raw
// JSON-RPC over `ws` here, as any client would. Runs on the bundle built by extension.bench.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, startCompanion } from './lib/companion.mjs';
import { percentile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLIENTS = 5;
const IN_FLIGHT = 4; // requests each client keeps outstanding
const SECONDS = 4;
const RUNS = 41;

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'isb-bench-companion-'));
  const { env, info, stop } = await startCompanion(root, dir);
  try {
    const rpc = await throughput(info);
    const warm = guardWarm(dir, env);
    return [
      {
        measure: `companion JSON-RPC, ${CLIENTS} clients × ${IN_FLIGHT} in flight, ${SECONDS} s (operation/list)`,
        budget: '≥ 1,000 req/s, p99 ≤ 10 ms',
        result: `${Math.round(rpc.perSecond).toLocaleString('en')} req/s, p50 ${rpc.p50.toFixed(2)} ms, p99 ${rpc.p99.toFixed(2)} ms`,
        ok: rpc.perSecond >= 1000 && rpc.p99 <= 10,
      },
      {
        measure: `guard exec warm: a guarded terminal command (bash shim → companion) vs direct, added (n=${RUNS})`,
        budget: 'p50 ≤ 15 ms',
        result: `p50 +${warm.shim50.toFixed(1)} ms, p95 +${warm.shim95.toFixed(1)} ms (direct p50 ${warm.direct50.toFixed(1)} ms)`,
        ok: warm.shim50 <= 15,
      },
      {
        measure: `infra-sandbox guard exec (new Node process) asking the warm companion vs direct, added (n=${RUNS})`,
        budget: '(informative)',
        result: `p50 +${warm.cli50.toFixed(0)} ms, p95 +${warm.cli95.toFixed(0)} ms`,
        ok: true,
      },
    ];
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughput(info) {
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => connect(info)));
  const latencies = [];
  let stop = false;
  const client = (ws) =>
    new Promise((resolve) => {
      let id = 0;
      let outstanding = 0;
      const sent = new Map();
      const send = () => {
        if (stop) {
          if (outstanding === 0) resolve();
          return;
        }
        id++;
        sent.set(id, performance.now());
        outstanding++;
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'operation/list', params: {} }));
      };
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.id === undefined || !sent.has(msg.id)) return;
        if (msg.error) throw new Error(`companion error: ${msg.error.message}`);
        latencies.push(performance.now() - sent.get(msg.id));
        sent.delete(msg.id);
        outstanding--;
        send();
      });
      for (let i = 0; i < IN_FLIGHT; i++) send();
    });
  // Warm up, then measure.
  const started = performance.now();
  const running = Promise.all(sockets.map(client));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  await running;
  const elapsed = (performance.now() - started) / 1000;
  for (const ws of sockets) ws.close();
  const measured = latencies.slice(Math.floor(latencies.length * 0.1)); // drop the first 10 % (JIT warm-up)
  return { perSecond: latencies.length / elapsed, p50: percentile(measured, 50), p99: percentile(measured, 99) };
}

/** A stand-in ansible-playbook behind a bash shim, with the companion deciding; the same without a shim. */
function guardWarm(dir, env) {
  writeFileSync(
    join(dir, 'infra-sandbox.yaml'),
    'version: 1\nproduction:\n  networks: [192.168.1.0/24]\nsandbox:\n  networks: [127.0.0.0/8]\nguard:\n  onUnresolved: block\n',
  );
  writeFileSync(join(dir, 'hosts.ini'), '[nodes]\nn1 ansible_host=127.0.0.2\nn2 ansible_host=127.0.0.3\n');
  const bin = join(dir, 'bin');
  const shims = join(dir, 'shims');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ansible-playbook'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const write = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `require('./src/core/guard/shims.ts').writeShims(${JSON.stringify(shims)}, ['ansible-playbook'], { executable: ${JSON.stringify(process.execPath)}, cli: ${JSON.stringify(join(root, 'dist', 'cli.js'))}, electron: false, inventoryParser: 'builtin', fastPath: { bash: '/bin/bash', companionEnv: ${JSON.stringify(join(dir, 'run', 'companion.env'))} } })`,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (write.status !== 0) throw new Error(`writing the shims failed: ${write.stderr}`);
  const shellEnv = {
    ...env,
    PATH: `${shims}:${bin}:/usr/bin:/bin`,
    INFRA_SANDBOX_SHIM_DIR: shims,
    INFRA_SANDBOX_CONFIG: join(dir, 'infra-sandbox.yaml'),
  };
  const time = (cmd, args) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: dir, env: shellEnv, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  };
  const args = ['-i', 'hosts.ini', 'site.yml'];
  const direct = [];
  const shim = [];
  const cli = [];
  for (let i = 0; i < RUNS; i++) {
    direct.push(time(join(bin, 'ansible-playbook'), args));
    shim.push(time(join(shims, 'ansible-playbook'), args));
    cli.push(
      time(process.execPath, [
        join(root, 'dist', 'cli.js'),
        'guard',
        '--inventory-parser',
        'builtin',
        'exec',
        '--',
        join(bin, 'ansible-playbook'),
        ...args,
      ]),
    );
  }
  return {
    direct50: percentile(direct, 50),
    shim50: percentile(shim, 50) - percentile(direct, 50),
    shim95: percentile(shim, 95) - percentile(direct, 95),
    cli50: percentile(cli, 50) - percentile(direct, 50),
    cli95: percentile(cli, 95) - percentile(direct, 95),
  };
}
