// One build for the three entries: the extension (CJS, `vscode` external), the CLI/companion
// (runnable with `node`), and the dashboard webview. `--production` minifies, `--watch` rebuilds.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'info',
  legalComments: 'none',
  define: { __INFRA_SANDBOX_VERSION__: JSON.stringify(version) },
};

/**
 * src/core/config/compiledSchema.ts compiles the config schema with ajv at run time; in the bundles
 * it is replaced by ajv's standalone code for the same schema and options, made here: the bundles
 * then carry a few kB of generated checks instead of the ajv compiler (about 120 kB minified).
 */
const standaloneSchema = {
  name: 'ajv-standalone-config-schema',
  setup(build) {
    build.onLoad({ filter: /src[\\/]core[\\/]config[\\/]compiledSchema\.ts$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const options = JSON.parse(/export const AJV_OPTIONS = (\{[^}]*\})/.exec(source)[1].replace(/(\w+):/g, '"$1":'));
      const schema = JSON.parse(readFileSync(new URL('./schema/infra-sandbox.schema.json', import.meta.url), 'utf8'));
      const ajv = new Ajv.default({ ...options, code: { source: true, esm: false } });
      const code = standaloneCode.default(ajv, ajv.compile(schema));
      const contents = `const validate = (() => { const module = { exports: {} }; const exports = module.exports; ${code}; return module.exports; })();\nexports.compileConfigSchema = () => validate;\n`;
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

// ws loads optional native speed-ups inside try/catch; they are not installed and not needed.
const node = {
  ...common,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  plugins: [standaloneSchema],
  // dockerode → ssh2 loads its native crypto and cpu-features inside try/catch, and falls back to JS.
  external: ['bufferutil', 'utf-8-validate', 'cpu-features', '*.node'],
};

const builds = [
  // The extension in two files: what activation needs, and the rest (src/extension/lazy.ts), which
  // src/extension/loadLazy.ts requires from beside it after activation.
  {
    ...node,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    external: [...node.external, 'vscode'],
    define: { ...common.define, __INFRA_SANDBOX_LAZY__: JSON.stringify('./extension-lazy.js') },
  },
  {
    ...node,
    entryPoints: { 'extension-lazy': 'src/extension/lazy.ts' },
    outdir: 'dist',
    external: [...node.external, 'vscode'],
  },
  // The CLI/companion, and the sandbox providers (dockerode, ssh2 …) in a file of their own that
  // src/core/sandbox/loadProviders.ts requires when a sandbox command or the companion needs them.
  {
    ...node,
    entryPoints: { 'sandbox-providers': 'src/core/sandbox/index.ts' },
    outdir: 'dist',
  },
  {
    ...node,
    define: { ...common.define, __INFRA_SANDBOX_PROVIDERS__: JSON.stringify('./sandbox-providers.js') },
    entryPoints: { 'cli-main': 'src/companion/main.ts' },
    outdir: 'dist',
  },
  // dist/cli.js: loads dist/cli-main.js with V8's code cache (src/companion/loader.ts).
  {
    ...node,
    entryPoints: { cli: 'src/companion/loader.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { dashboard: 'webview/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
  },
];

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
