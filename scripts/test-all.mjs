// `npm test`: system packages, lint, format, types, build, then the unit, integration, contract and
// end-to-end tiers. Stops at the first failing step; ends with one "N passed, M failed" line.
import { spawn } from 'node:child_process';

const steps = [
  ['system packages', ['scripts/ensure-system.mjs']],
  ['lint', ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.']],
  ['format', ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.']],
  ['types', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']],
  ['types (webview)', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'webview']],
  ['build', ['esbuild.mjs']],
  ['unit', ['scripts/run-node-tests.mjs', 'test/unit']],
  ['integration', ['scripts/run-node-tests.mjs', 'test/integration']],
  ['contract', ['scripts/run-node-tests.mjs', 'test/contract']],
  ['e2e (real VS Code)', ['test/e2e/run.mjs']],
];

let passed = 0;
let failed = 0;
const timings = [];
for (const [name, args] of steps) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const { code, counts } = await runStep(args);
  timings.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  passed += counts.pass;
  failed += counts.fail;
  if (code !== 0) {
    console.error(`\n✖ step "${name}" failed (exit ${code})`);
    console.log(`\n${timings.join(' · ')}`);
    console.log(`${passed} passed, ${Math.max(failed, 1)} failed`);
    process.exit(1);
  }
}
console.log(`\n${timings.join(' · ')}`);
console.log(`${passed} passed, ${failed} failed`);

/** Runs one step with node, echoing its output and counting test results from the runners' summaries. */
function runStep(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const counts = { pass: 0, fail: 0 };
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail += chunk.toString();
      const lines = tail.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) count(line, counts);
    });
    child.on('close', (code) => {
      count(tail, counts);
      resolve({ code: code ?? 1, counts });
    });
  });
}

function count(line, counts) {
  // Node's test runner (spec reporter): "ℹ pass 12" / "ℹ fail 0"; the e2e runner: "3 passed, 0 failed".
  let m = /^ℹ (pass|fail) (\d+)$/.exec(line.trim());
  if (m) counts[m[1]] += Number(m[2]);
  m = /^(\d+) passed, (\d+) failed$/.exec(line.trim());
  if (m) {
    counts.pass += Number(m[1]);
    counts.fail += Number(m[2]);
  }
}
