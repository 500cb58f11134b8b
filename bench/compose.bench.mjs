// Compose sandbox `up` through the product against the raw compose command on the same file
// (SPEC §9: overhead ≤ 5 %, ratio of medians). Both wait until every healthcheck is healthy:
// the product through the companion (as the editor and a warm CLI use it), the raw side as a
// script would — `docker-compose up -d`, then `docker inspect` until healthy. Each run starts from
// nothing and is destroyed after. Needs the Docker engine and the node image the tests build.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, startCompanion } from './lib/companion.mjs';
import { percentile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;

export async function run() {
  const docker = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "const d = require('./test/helpers/docker.ts'); d.ensureDocker().then(d.ensureNodeImage)",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (docker.status !== 0 || compose.status !== 0) {
    return [
      {
        measure: 'compose sandbox up through the product vs raw compose',
        budget: 'overhead ≤ 5 %',
        result: `not measured: ${docker.status !== 0 ? 'no Docker engine / node image' : 'docker-compose missing'}`,
        ok: false,
      },
    ];
  }
  const dir = mkdtempSync(join(tmpdir(), 'isb-bench-compose-'));
  const template = join(dir, 'stack');
  cpSync(join(root, 'test', 'fixtures', 'compose', 'basic'), template, { recursive: true });
  writeFileSync(
    join(dir, 'infra-sandbox.yaml'),
    `version: 1\nsandboxes:\n  bench:\n    provider: compose\n    template: ./stack\n`,
  );
  const { info, stop } = await startCompanion(root, dir);
  try {
    const ws = await connect(info);
    const product = [];
    const raw = [];
    const file = readdirCompose(template);
    for (let i = 0; i < RUNS; i++) {
      // Alternate, so drift on the machine hits both sides alike.
      product.push(await viaCompanion(ws, join(dir, 'infra-sandbox.yaml'), 'sandbox.up'));
      await viaCompanion(ws, join(dir, 'infra-sandbox.yaml'), 'sandbox.destroy');
      raw.push(rawUp(file, template));
      spawnSync('docker-compose', ['-p', 'isb-bench-raw', '-f', file, 'down', '-v', '--remove-orphans'], {
        cwd: template,
        stdio: 'ignore',
      });
    }
    ws.close();
    const p50 = percentile(product, 50);
    const r50 = percentile(raw, 50);
    const overhead = (p50 / r50 - 1) * 100;
    return [
      {
        measure: `compose sandbox up (2 services, healthchecks) through the companion vs docker-compose up -d + wait healthy (n=${RUNS})`,
        budget: 'overhead ≤ 5 %',
        result: `${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} % (medians ${(p50 / 1000).toFixed(2)} s vs ${(r50 / 1000).toFixed(2)} s)`,
        ok: overhead <= 5,
      },
    ];
  } finally {
    await stop();
    spawnSync('docker-compose', ['-p', 'isb-bench-raw', 'down', '-v'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

function readdirCompose(dir) {
  for (const name of ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`no compose file in ${dir}`);
}

let nextId = 1;
/** Starts the operation and resolves with its wall time once it has succeeded. */
function viaCompanion(ws, configFile, kind) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const t0 = performance.now();
    let opId;
    const onMessage = (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.id === id) {
        if (msg.error) return done(new Error(msg.error.message));
        opId = msg.result.id;
      } else if (msg.method === 'operation/changed' && msg.params.id === opId) {
        const { state, error } = msg.params;
        if (state === 'succeeded') done(undefined, performance.now() - t0);
        else if (['failed', 'cancelled', 'interrupted'].includes(state)) done(new Error(`${kind} ${state}: ${error}`));
      }
    };
    const done = (err, ms) => {
      ws.off('message', onMessage);
      if (err) reject(err);
      else resolve(ms);
    };
    ws.on('message', onMessage);
    ws.send(
      JSON.stringify({ jsonrpc: '2.0', id, method: 'operation/start', params: { kind, key: 'bench', configFile } }),
    );
  });
}

/** What a script does without the product: up -d, then inspect until every healthcheck is healthy. */
function rawUp(file, cwd) {
  const t0 = performance.now();
  const up = spawnSync('docker-compose', ['-p', 'isb-bench-raw', '-f', file, 'up', '-d'], { cwd, encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`docker-compose up failed: ${up.stderr}`);
  for (;;) {
    // `docker ps` by the project's label: compose v1's own `ps` costs half a second of Python start-up.
    const ids = spawnSync('docker', ['ps', '-q', '--filter', 'label=com.docker.compose.project=isb-bench-raw'], {
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    const states = spawnSync(
      'docker',
      ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', ...ids],
      {
        encoding: 'utf8',
      },
    )
      .stdout.trim()
      .split('\n');
    if (states.every((s) => s === 'healthy' || s === 'none')) return performance.now() - t0;
    spawnSync('sleep', ['0.2']);
  }
}
