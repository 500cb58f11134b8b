// `npm run package`: production build, then a .vsix with vsce; checks the SPEC §9 size budget and
// that no source or test file slipped past the .vscodeignore allow-list.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const out = join('dist-pkg', 'infra-sandbox.vsix');
mkdirSync('dist-pkg', { recursive: true });
step(process.execPath, ['esbuild.mjs', '--production']);
step(process.execPath, [
  'node_modules/@vscode/vsce/vsce',
  'package',
  '--no-dependencies',
  '--no-rewrite-relative-links',
  '--out',
  out,
]);

const listing = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
const entries = listing.status === 0 ? listing.stdout.split('\n').filter(Boolean) : [];
const leaked = entries.filter((e) => /^extension\/(src|test|bench|scripts|node_modules|examples)\//.test(e));
const size = statSync(out).size;
console.log(`${out}: ${(size / 1024).toFixed(0)} KiB, ${entries.length} files`);
if (leaked.length) fail(`source or test files in the package: ${leaked.join(', ')}`);
// Every bundle esbuild wrote must be in the package (the extension loads dist/extension-lazy.js itself).
const bundles = readdirSync('dist', { recursive: true }).filter((f) => String(f).endsWith('.js'));
const missing = bundles.filter((f) => !entries.includes(`extension/dist/${f}`));
if (missing.length) fail(`bundles left out by .vscodeignore: ${missing.map((f) => `dist/${f}`).join(', ')}`);
if (size > 2 * 1024 * 1024) fail(`the package is over the 2 MB budget`);

function step(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) fail(`${args[0]} failed`);
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}
