import { appendFile, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Verdict } from './types';

/** Where `guard exec` records its verdicts for the editor's Guard view: next to the config. */
export function verdictLogPath(configFile: string): string {
  return join(dirname(configFile), '.infra-sandbox', 'guard-verdicts.jsonl');
}

export interface VerdictRecord {
  at: string;
  cwd: string;
  verdict: Verdict['verdict'];
  command: string[];
  reason: string;
  /** The blocking (or first) targets, shortened for display. */
  targets: { name: string; chain: string[]; production: boolean; rule: string | null }[];
}

/** Appends one line (a single write; a torn last line is skipped by the reader). Never throws. */
export async function recordVerdict(configFile: string, cwd: string, v: Verdict): Promise<void> {
  const record: VerdictRecord = {
    at: new Date().toISOString(),
    cwd,
    verdict: v.verdict,
    command: v.command ?? [],
    reason: v.reason,
    targets: v.targets
      .filter((t) => t.production || v.verdict === 'allow')
      .slice(0, 5)
      .map((t) => ({ name: t.name, chain: t.chain, production: t.production, rule: t.rule })),
  };
  try {
    const file = verdictLogPath(configFile);
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    if ((await stat(file)).size > MAX_LOG_BYTES) await trim(file);
  } catch {
    // The record is a convenience for the Guard view; the verdict itself has been printed.
  }
}

/** The log is trimmed to its newest quarter when it passes 1 MiB (thousands of verdicts). */
const MAX_LOG_BYTES = 1024 * 1024;

async function trim(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const keep = text.slice(text.length - MAX_LOG_BYTES / 4);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, keep.slice(keep.indexOf('\n') + 1), { mode: 0o600 });
  await rename(tmp, file);
}

/** The last `count` records, newest first, reading only the file's tail. */
export async function readRecentVerdicts(file: string, count = 20): Promise<VerdictRecord[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (size > length) lines.shift(); // probably cut in the middle
    const out: VerdictRecord[] = [];
    for (const line of lines.reverse()) {
      if (out.length >= count) break;
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as VerdictRecord);
      } catch {
        // a torn line
      }
    }
    return out;
  } finally {
    await handle.close();
  }
}
