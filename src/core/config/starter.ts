import { copyFile, constants } from 'node:fs/promises';
import { join } from 'node:path';

export const STARTER_TEMPLATE = join('config', 'infra-sandbox.yaml');

/**
 * Copies the starter config from `templatesDir` to `target`. Never overwrites: returns false when
 * the target already exists. The copy is exclusive, so a concurrent writer cannot be clobbered.
 */
export async function writeStarterConfig(templatesDir: string, target: string): Promise<boolean> {
  try {
    await copyFile(join(templatesDir, STARTER_TEMPLATE), target, constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}
