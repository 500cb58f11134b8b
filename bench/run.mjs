// `npm run bench`: runs every bench/*.bench.mjs and prints one table: measure, budget (SPEC §9), result.
// Each benchmark exports `run()` resolving to rows { measure, budget, result, ok }.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = new URL('.', import.meta.url).pathname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();
const rows = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}…\n`);
  const mod = await import(pathToFileURL(join(dir, file)).href);
  rows.push(...(await mod.run()));
}

const header = ['measure', 'budget (SPEC §9)', 'result', ''];
const table = [header, ...rows.map((r) => [r.measure, r.budget, r.result, r.ok ? 'ok' : 'OVER BUDGET'])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
