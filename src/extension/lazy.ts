/**
 * What the extension needs only after activation — the config validator and the guard's editor
 * surfaces, with their parsers (yaml, ajv's generated checks, the guard's extractors and resolver).
 * esbuild bundles it as `dist/extension-lazy.js`, which `loadLazy()` requires on first use: VS Code
 * compiles only the small `dist/extension.js` while it activates the extension.
 */
export { validateConfigText } from '../core/config/validate';
export { startGuard } from './guard/index';
export { CompanionClient } from './companion/companionClient';
