// Extension activation time and bundle sizes (SPEC §9: activation ≤ 30 ms; bundle ≤ 500 KB
// minified, webview apart; .vsix ≤ 2 MB).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { percentile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 21;

export async function run() {
  // The production package: minified bundles and the .vsix (scripts/package.mjs builds both).
  const pkg = spawnSync(process.execPath, ['scripts/package.mjs'], { cwd: root, encoding: 'utf8' });
  if (pkg.status !== 0) throw new Error(`packaging failed:\n${pkg.stderr}${pkg.stdout}`);

  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ['bench/lib/activate-once.cjs', `${root}dist/extension.js`], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`activation run failed:\n${r.stderr}`);
    samples.push(Number(r.stdout.trim()));
  }
  const p50 = percentile(samples, 50);
  const p95 = percentile(samples, 95);
  const kb = (file) => statSync(`${root}${file}`).size / 1000;
  // The extension ships as two files: what activation compiles, and the rest, loaded after it.
  const activation = kb('dist/extension.js');
  const lazy = kb('dist/extension-lazy.js');
  const extension = activation + lazy;
  const cli = kb('dist/cli.js') + kb('dist/cli-main.js');
  const webview = kb('dist/webview/dashboard.js');
  const vsix = kb('dist-pkg/infra-sandbox.vsix');
  return [
    {
      measure: `extension activation (require + activate, fresh process, n=${RUNS})`,
      budget: '≤ 30 ms',
      result: `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
      ok: p50 <= 30,
    },
    {
      measure: 'extension bundle, minified (activation file + the part loaded after activation)',
      budget: '≤ 500 KB',
      result: `${extension.toFixed(0)} KB (${activation.toFixed(0)} + ${lazy.toFixed(0)})`,
      ok: extension <= 500,
    },
    { measure: 'CLI/companion bundle, minified', budget: '(none)', result: `${cli.toFixed(0)} KB`, ok: true },
    { measure: 'webview bundle, minified', budget: '(apart)', result: `${webview.toFixed(0)} KB`, ok: true },
    { measure: '.vsix', budget: '≤ 2 MB', result: `${vsix.toFixed(0)} KB`, ok: vsix <= 2000 },
  ];
}
