// `npm start`: builds, then opens examples/homelab with the extension in development mode in a real
// VS Code — the local `code` CLI when there is one, otherwise the browser VS Code of the tests
// (code-server on 127.0.0.1; the URL is printed). Ctrl-C stops it.
//   INFRA_SANDBOX_PORT=8123 npm start   fixes the port (default: 8123, or a free one when taken)
//   npm start -- --browser              uses the browser VS Code even when `code` exists
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer, freePort, startCodeServer } from './vscode-server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const workspace = join(repo, 'examples', 'homelab');

const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const code = process.argv.includes('--browser') ? undefined : which('code');
if (code) {
  console.log(`Opening ${workspace} in VS Code (${code}) with the extension in development mode.`);
  const r = spawnSync(code, ['--new-window', `--extensionDevelopmentPath=${repo}`, workspace], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

console.log('No `code` command on PATH: starting the browser VS Code (code-server) instead.');
try {
  ensureCodeServer();
} catch (e) {
  console.error(`Cannot set up code-server: ${e.message}`);
  process.exit(1);
}
const wanted = Number(process.env.INFRA_SANDBOX_PORT ?? 8123);
const port = (await portFree(wanted)) ? wanted : await freePort();
let server;
try {
  server = await startCodeServer({ port, smokeTestDriver: true });
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
const payload = [
  ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${repo}`],
  ['skipWelcome', 'true'],
];
const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
console.log(`\nInfra Sandbox in VS Code, with ${workspace} open:\n\n  ${url}\n`);
console.log('It listens on 127.0.0.1 only (no password). Press Ctrl-C to stop it.');
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.child.on('exit', (c) => {
  console.error(`code-server exited (${c}).\n${server.output().slice(-2000)}`);
  server.stop();
  process.exit(1);
});

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* next */
    }
  }
  return undefined;
}

async function portFree(p) {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(p, '127.0.0.1', () => s.close(() => ok(true)));
  });
}
