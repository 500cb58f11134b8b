// A companion for the benchmarks: `node dist/cli.js serve` in its own process with private runtime
// and state folders, and raw WebSocket clients authenticated with its token.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';

/** Starts the companion; resolves with its runtime info and a stop() that waits for its exit. */
export async function startCompanion(root, dir) {
  const env = {
    ...process.env,
    INFRA_SANDBOX_RUNTIME_DIR: join(dir, 'run'),
    INFRA_SANDBOX_STATE_DIR: join(dir, 'state'),
  };
  const server = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--idle-timeout', '0'], {
    env,
    stdio: 'ignore',
  });
  const stop = async () => {
    server.kill('SIGTERM');
    if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
  };
  try {
    return { env, info: await waitForInfo(join(dir, 'run', 'companion.json')), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForInfo(file) {
  for (let i = 0; i < 100; i++) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the companion did not write ${file}`);
}

/** A WebSocket to the companion, with its token. */
export function connect(info) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}/`, { headers: { 'x-infra-sandbox-token': info.token } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
