import { InvalidArgumentError, type Command } from 'commander';
import { relative } from 'node:path';
import { ExitCode } from '../../core/exitCodes';
import { InfraSandboxError } from '../../core/exec';
import { ledgerPath, readLedger, type LedgerContents } from '../../core/ledger';
import type { LedgerEntry } from '../../protocol/companion';
import { printJson, resolveConfigPath, type GlobalOptions } from '../context';

/** `infra-sandbox ledger [--limit N]`: what the ledger next to the config records (SPEC §8). */
export function registerLedgerCommand(program: Command): void {
  program
    .command('ledger')
    .description(
      'Show the ledger (.infra-sandbox/ledger.jsonl): operations, gate runs, lifecycle events, oldest first.',
    )
    .option('--limit <n>', 'only the last N entries', parseLimit)
    .action(async (opts: { limit?: number }, cmd: Command) => {
      process.exitCode = await showLedger({ ...cmd.optsWithGlobals<GlobalOptions>(), limit: opts.limit });
    });
}

async function showLedger(options: GlobalOptions & { limit?: number }): Promise<number> {
  const configFile = resolveConfigPath(options);
  const file = ledgerPath(configFile);
  const shown = relative(process.cwd(), file) || file;
  let contents: LedgerContents;
  try {
    contents = await readLedger(configFile, { limit: options.limit });
  } catch (err) {
    throw new InfraSandboxError(`could not read ${shown}: ${(err as Error).message}`, ExitCode.usage);
  }
  const { entries, skipped } = contents;
  if (skipped > 0) {
    process.stderr.write(
      `infra-sandbox: skipped ${skipped} unreadable ${skipped === 1 ? 'line' : 'lines'} in ${shown} (a torn last line is left by a writer that was killed)\n`,
    );
  }
  if (options.json) {
    printJson({ file, entries, skipped });
  } else if (entries.length === 0) {
    process.stdout.write(`no ledger entries yet (${shown})\n`);
  } else {
    process.stdout.write(formatEntries(entries));
  }
  return ExitCode.ok;
}

/** `2026-11-30 05:21:03  operation sandbox.up lab  succeeded  12.3 s`, columns aligned, local time. */
export function formatEntries(entries: LedgerEntry[]): string {
  const rows = entries.map((e) => [
    formatTime(e.at),
    [e.kind, e.subject, e.key].filter(Boolean).join(' '),
    String(e.result),
    formatDuration(mainDuration(e)),
    e.error ? oneLine(String(e.error)) : '',
  ]);
  const widths = [1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      [r[0], r[1].padEnd(widths[0]), r[2].padEnd(widths[1]), r[3].padEnd(widths[2]), r[4]].join('  ').trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** An error on one line: newlines folded, at most 160 characters. */
function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

function parseLimit(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number of entries.');
  return Number(value);
}

function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The duration worth a column: an operation's run time, else the first one recorded. */
function mainDuration(e: LedgerEntry): number | undefined {
  const d = e.durations;
  if (!d) return undefined;
  const value = typeof d.runMs === 'number' ? d.runMs : Object.values(d).find((v) => typeof v === 'number');
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
