// End-to-end tests in a real VS Code (code-server 4.139.1, Code 1.139) driven by Debian's chromium:
//  1. the mocha suite of test/e2e/suite runs inside the real extension host (smoke-test-driver payload),
//     on a temporary copy of examples/homelab;
//  2. then, in the same window, what a person sees: the activity-bar container, its views, the status
//     bar indicator and a config error in the Problems panel; a screenshot goes to test/e2e/artifacts/.
// Prints one "N passed, M failed" line last; exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ensureCodeServer, startCodeServer } from '../../scripts/vscode-server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(repo, 'test', 'e2e', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const verbose = process.env.E2E_VERBOSE === '1';
// The workbench's own chatter (connection set-up, lifecycle, no gallery offline); E2E_VERBOSE=1 shows it.
const NOISE =
  /^\s*(\[[\w:. -]+\]|Resolving connection|Resolved connection|Creating a socket|Updating additional)|ENOTFOUND|workbench\.js:\d+/;

let passed = 0;
let failed = 0;
const check = async (name, fn) => {
  try {
    await fn();
    passed++;
    console.log(`  ✔ ${name}`);
  } catch (e) {
    failed++;
    console.log(
      `  ✖ ${name}\n      ${String(e.message ?? e)
        .split('\n')
        .join('\n      ')}`,
    );
  }
};

if (!existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} not found — install it with: apt-get install -y chromium`);
  process.exit(1);
}
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
ensureCodeServer();
// The Docker engine and the node image the compose/nodes sandbox of the last check needs.
const docker = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '-e',
    "const d = require('./test/helpers/docker.ts'); d.ensureDocker().then(d.ensureNodeImage).catch((e) => { console.error(e.message); process.exit(1); })",
  ],
  { cwd: repo, stdio: 'inherit' },
);
if (docker.status !== 0) process.exit(1);

const work = mkdtempSync(join(tmpdir(), 'infra-sandbox-e2e-'));
const workspace = join(work, 'homelab');
cpSync(join(repo, 'examples', 'homelab'), workspace, { recursive: true });
// A compose/nodes sandbox besides the homelab's own (whose k3d, multipass and registry images
// cannot run here), for the check that creates one from the Sandboxes view.
const configPath = join(workspace, 'infra-sandbox.yaml');
writeFileSync(
  configPath,
  readFileSync(configPath, 'utf8').replace(
    /^sandboxes:\n/m,
    'sandboxes:\n  e2e:\n    provider: compose\n    template: compose/nodes\n    groups: { k3s_server: [1], k3s_agents: [2, 3] }\n',
  ),
);
mkdirSync(artifacts, { recursive: true });

let server;
let browser;
try {
  const t0 = Date.now();
  server = await startCodeServer({ smokeTestDriver: true });
  console.log(`code-server ready at ${server.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });

  // The extension host's console and the suite's exit code come back through these two hooks.
  const hostLog = [];
  let result = null;
  let exitCode;
  const exited = new Promise((ok) => (exitCode = ok));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    hostLog.push(`[${type}] ${text}`);
    const m = /E2E-RESULT (\{.*\})/.exec(text);
    if (m) result = JSON.parse(m[1]);
    // The workbench's own complaints about having no internet (extension gallery) are noise here.
    else if (verbose || (!result && !NOISE.test(text))) process.stdout.write(`${indent(text)}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code) => exitCode(code));

  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(repo)],
    ['extensionTestsPath', remote(join(repo, 'test', 'e2e', 'suite', 'index.cjs'))],
    ['skipWelcome', 'true'],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  console.log('\nIn the extension host:');
  await page.goto(url);
  const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok('timeout'), 180_000))]);
  if (result) {
    passed += result.passes;
    failed += result.failures;
  }
  if (code === 'timeout' || code !== 0 || !result) {
    if (!result) failed++;
    console.log(`  extension host suite: exit ${code}${result ? '' : ' (no result reported)'}`);
    // The suite's own output is already above; without a result, show what the workbench said.
    if (!verbose && !result) console.log(indent(hostLog.slice(-40).join('\n') + '\n'));
  }

  // The extension host ends with the suite; load the window again with the extension in
  // development mode only — what `npm start` opens — and look at it as a person would.
  const devOnly = [payload[0], payload[2]];
  await page.goto(
    `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(devOnly))}`,
  );
  console.log('\nIn the workbench a person sees:');
  await check('the activity bar has the "Infra Sandbox" container', async () => {
    const item = page.locator('.part.activitybar .action-item .action-label[aria-label^="Infra Sandbox"]').first();
    await item.waitFor({ state: 'visible', timeout: 20_000 });
    await item.click();
  });
  await check('its views are Sandboxes, Gates, Guard and Dashboard', async () => {
    const sidebar = page.locator('#workbench\\.parts\\.sidebar');
    await sidebar.getByText('Sandboxes', { exact: true }).first().waitFor({ timeout: 10_000 });
    const titles = await sidebar.locator('.pane-header .title').allInnerTexts();
    for (const want of ['SANDBOXES', 'GATES', 'GUARD', 'DASHBOARD']) {
      if (!titles.some((t) => t.trim().toUpperCase() === want))
        throw new Error(`view "${want}" not shown; saw ${JSON.stringify(titles)}`);
    }
  });
  await check('the status bar indicator says "no sandbox"', async () => {
    const status = page.locator('#workbench\\.parts\\.statusbar');
    await status.getByText('no sandbox', { exact: false }).first().waitFor({ timeout: 15_000 });
  });
  await check('the Dashboard webview renders the configured sandboxes', async () => {
    const sidebar = page.locator('#workbench\\.parts\\.sidebar');
    // Give the Dashboard room: collapse the Gates view above it.
    await sidebar.locator('.pane-header', { hasText: 'Gates' }).first().click();
    const dashboard = page.frameLocator('iframe.webview').frameLocator('#active-frame');
    await dashboard.getByText('no sandbox running', { exact: false }).waitFor({ timeout: 20_000 });
    await dashboard.getByText('stack', { exact: true }).first().waitFor({ timeout: 5_000 });
  });
  await page.screenshot({ path: join(artifacts, 'workbench.png') });

  await check('a wrong type in infra-sandbox.yaml shows in the Problems panel at its line', async () => {
    const file = join(workspace, 'infra-sandbox.yaml');
    const original = readFileSync(file, 'utf8');
    const line = original.split('\n').findIndex((l) => l.includes('maxSandboxes: 3')) + 1;
    writeFileSync(file, original.replace('maxSandboxes: 3', 'maxSandboxes: three'));
    try {
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'limits.maxSandboxes' }).first();
      await row.waitFor({ timeout: 15_000 });
      const text = await row.innerText();
      if (!text.includes(`[Ln ${line}`)) throw new Error(`expected [Ln ${line}, …] in ${JSON.stringify(text)}`);
      await page
        .locator('#workbench\\.parts\\.statusbar')
        .getByText('config error')
        .first()
        .waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(artifacts, 'problems.png') });
    } finally {
      writeFileSync(file, original);
    }
  });
  await check('the production inventory shows its production hosts in the Problems panel at their lines', async () => {
    await page.keyboard.press('Control+P');
    await page.keyboard.type('production/hosts.ini');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'hosts.ini' })
      .first()
      .waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+Shift+M');
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'pi1 is production' }).first();
    await row.waitFor({ timeout: 20_000 });
    const text = await row.innerText();
    if (!text.includes('192.168.1.0/24 production') || !text.includes('[Ln 3'))
      throw new Error(`expected the chain and [Ln 3, …] in ${JSON.stringify(text)}`);
    await page.screenshot({ path: join(artifacts, 'guard-diagnostics.png') });
  });
  await check(
    'a compose/nodes sandbox created from the Sandboxes view turns healthy, the status bar names it, destroy removes it',
    async () => {
      await page.keyboard.press('Escape');
      const sidebar = page.locator('#workbench\\.parts\\.sidebar');
      const row = sidebar.locator('.monaco-list-row', { hasText: 'e2e' }).first();
      await row.waitFor({ timeout: 30_000 });
      await row.getByText('not created').waitFor({ timeout: 30_000 });
      await row.hover();
      await row.locator('.action-label[aria-label="Bring Sandbox Up"]').click();
      const status = page.locator('#workbench\\.parts\\.statusbar');
      await status.getByText('e2e · 3/3 healthy').first().waitFor({ timeout: 90_000 });
      // Room for its nodes: collapse the views below it, then expand the sandbox.
      for (const title of ['Guard', 'Dashboard']) {
        const header = sidebar.locator('.pane-header', { hasText: title }).first();
        if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
      }
      if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
      for (const node of ['node-1', 'node-2', 'node-3']) {
        await sidebar
          .locator('.monaco-list-row', { hasText: node })
          .getByText('healthy')
          .first()
          .waitFor({ timeout: 20_000 });
      }
      await page.screenshot({ path: join(artifacts, 'sandbox.png') });
      await row.hover();
      await row.locator('.action-label[aria-label="Destroy Sandbox…"]').click();
      await page.locator('.monaco-dialog-box').getByRole('button', { name: 'Destroy' }).click();
      await row.getByText('not created').waitFor({ timeout: 60_000 });
      await status.getByText('no sandbox', { exact: false }).first().waitFor({ timeout: 20_000 });
    },
  );
  console.log(
    `\nscreenshots: ${join('test', 'e2e', 'artifacts')}/workbench.png, problems.png, guard-diagnostics.png, sandbox.png`,
  );
} catch (e) {
  failed++;
  console.error(`e2e: ${e.stack ?? e}`);
} finally {
  await browser?.close().catch(() => {});
  // Whatever the checks did, no sandbox of this run is left running.
  spawnSync(
    process.execPath,
    [join(repo, 'dist', 'cli.js'), '--config', configPath, 'sandbox', 'destroy', 'e2e', '--yes'],
    {
      stdio: 'ignore',
      env: { ...process.env, INFRA_SANDBOX_NO_COMPANION: '1' },
    },
  );
  server?.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

function indent(text) {
  return text
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n');
}
