import type * as ProvidersModule from './index';

/**
 * The providers and their libraries (dockerode, ssh2 …) are a bundle of their own
 * (`dist/sandbox-providers.js`, see esbuild.mjs), required when a sandbox command or the companion
 * needs them: every other command — `guard exec` above all — starts without compiling them.
 */
export function loadProviders(): typeof ProvidersModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(PROVIDERS_MODULE) as typeof ProvidersModule;
}

/** `./sandbox-providers.js` beside the bundle; this folder's index.ts when running from sources. */
const PROVIDERS_MODULE = typeof __INFRA_SANDBOX_PROVIDERS__ === 'string' ? __INFRA_SANDBOX_PROVIDERS__ : './index';
declare const __INFRA_SANDBOX_PROVIDERS__: string | undefined;
