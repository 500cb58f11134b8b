/**
 * `dist/cli.js`: loads the CLI bundle (`dist/cli-main.js`) with V8's code cache. Compiling the
 * bundle is the largest part of the CLI's start-up, and the CLI starts for every guarded command
 * typed while no companion runs; with the cache a start skips it. The cache lives in the user's
 * cache folder (0700), is keyed by the bundle's size and mtime, and V8 itself refuses cached data
 * that does not match the source — a stale or damaged cache only costs the compile it would have
 * saved. `INFRA_SANDBOX_NO_CODE_CACHE=1` turns it off.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'cli-main.js');

function cacheFile(): string | undefined {
  if (process.env.INFRA_SANDBOX_NO_CODE_CACHE === '1') return undefined;
  try {
    const s = statSync(bundle);
    const key = createHash('sha256')
      .update(`${process.version}\0${process.arch}\0${bundle}\0${s.size}\0${s.mtimeMs}`)
      .digest('hex')
      .slice(0, 24);
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return join(base, 'infra-sandbox', 'v8', `cli-${key}.bin`);
  } catch {
    return undefined;
  }
}

function load(): void {
  const source = readFileSync(bundle, 'utf8');
  const file = cacheFile();
  let cachedData: Buffer | undefined;
  if (file) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // first run, or the cache folder is gone
    }
  }
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
  const fn = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  const req = createRequire(bundle);
  fn.call(mod.exports, mod.exports, req, mod, bundle, dirname(bundle));
  if (file && (!cachedData || script.cachedDataRejected)) {
    // After the run: the cache then holds the functions start-up compiled, not only the top level.
    setImmediate(() => {
      try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        // a read-only home: no cache, nothing else changes
      }
    }).unref();
  }
}

load();
