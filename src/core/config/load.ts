import { readFile } from 'node:fs/promises';
import type { ConfigResult } from './types';
import { validateConfigText } from './validate';

/** Reads and validates a config file; an unreadable file is a problem at 1:1, never an exception. */
export async function loadConfig(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    return {
      ok: false,
      file,
      problems: [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, key: '', message: `cannot read: ${reason}` }],
    };
  }
  return validateConfigText(file, text);
}
