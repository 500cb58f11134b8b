import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LedgerEntry } from '../../protocol/companion';

/**
 * The ledger (SPEC §8): `.infra-sandbox/ledger.jsonl` next to infra-sandbox.yaml, one JSON object
 * per line, append-only. Each entry is written with a single `write` on a file opened in append
 * mode and fsync'd before the promise resolves, so concurrent writers never interleave and a
 * written entry survives a crash. A writer killed mid-line leaves a torn last line: the reader skips
 * (and counts) it, and the next append starts on a fresh line so it is not glued to the torn one.
 */
export function ledgerPath(configFile: string): string {
  return join(dirname(configFile), '.infra-sandbox', 'ledger.jsonl');
}

/** Appends one entry and fsyncs it. Creates `.infra-sandbox/` (0700) and the file (0600) when missing. */
export async function appendLedger(configFile: string, entry: LedgerEntry): Promise<void> {
  const file = ledgerPath(configFile);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a+', 0o600);
  try {
    const line = `${JSON.stringify(entry)}\n`;
    await handle.write((await endsTorn(handle)) ? `\n${line}` : line);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface ReadLedgerOptions {
  /** Only the last N entries. */
  limit?: number;
}

export interface LedgerContents {
  /** In file order: oldest first, newest last. */
  entries: LedgerEntry[];
  /** Lines that were not a JSON object (a torn last line, a hand edit). */
  skipped: number;
}

/** Reads the ledger of a config file; a missing ledger is empty, never an error. */
export async function readLedger(configFile: string, options: ReadLedgerOptions = {}): Promise<LedgerContents> {
  let text: string;
  try {
    text = await readFile(ledgerPath(configFile), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: 0 };
    throw err;
  }
  const entries: LedgerEntry[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const entry = parseEntry(line);
    if (entry) entries.push(entry);
    else skipped++;
  }
  const { limit } = options;
  if (limit !== undefined && limit < entries.length) entries.splice(0, entries.length - Math.max(0, limit));
  return { entries, skipped };
}

function parseEntry(line: string): LedgerEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const e = value as Partial<LedgerEntry>;
      if (typeof e.at === 'string' && typeof e.kind === 'string') return value as LedgerEntry;
    }
  } catch {
    // torn or hand-edited
  }
  return undefined;
}

/** Whether a non-empty file does not end with a newline (a writer died mid-line). */
async function endsTorn(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
