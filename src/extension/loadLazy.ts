import type * as LazyModule from './lazy';

/** The lazily loaded part of the extension (./lazy.ts), from `dist/extension-lazy.js` beside the bundle. */
export type Lazy = typeof LazyModule;

let lazy: Lazy | undefined;

export function loadLazy(): Lazy {
  // A plain require of a sibling file that esbuild leaves alone (see esbuild.mjs): compiled when first needed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lazy ??= require(LAZY_BUNDLE) as Lazy;
  return lazy;
}

/** `./extension-lazy.js` in the bundle; the TypeScript module itself when running from sources. */
const LAZY_BUNDLE = typeof __INFRA_SANDBOX_LAZY__ === 'string' ? __INFRA_SANDBOX_LAZY__ : './lazy';
declare const __INFRA_SANDBOX_LAZY__: string | undefined;
