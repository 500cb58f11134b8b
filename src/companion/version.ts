declare const __INFRA_SANDBOX_VERSION__: string | undefined;

/** Injected by esbuild from package.json; "dev" when run from source. */
export const VERSION = typeof __INFRA_SANDBOX_VERSION__ === 'string' ? __INFRA_SANDBOX_VERSION__ : '0.0.0-dev';
