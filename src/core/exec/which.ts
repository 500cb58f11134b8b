import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Finds an executable on PATH. Only absolute PATH entries count: an empty entry or "." would mean
 * the current (possibly untrusted) folder, which is never searched.
 */
export function which(command: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  if (command.includes('/')) return isAbsolute(command) && isExecutable(command) ? command : undefined;
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
