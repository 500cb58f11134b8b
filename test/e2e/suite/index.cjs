// Entry point the real VS Code extension host loads (extensionTestsPath): runs the mocha suites
// of this folder and rejects when any test fails, so the workbench reports a non-zero exit code.
const path = require('node:path');
const fs = require('node:fs');

exports.run = async function run() {
  const M = require('mocha');
  const Mocha = M.Mocha || M.default || M;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.cjs')) mocha.addFile(path.join(__dirname, f));
  }
  await mocha.loadFilesAsync();
  const failures = await new Promise((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('end', () => {
      const s = runner.stats || {};
      // The outer runner (test/e2e/run.mjs) reads this line from the extension host's console.
      console.log(`E2E-RESULT ${JSON.stringify({ passes: s.passes || 0, failures: s.failures || 0 })}`);
    });
  });
  if (failures > 0) throw new Error(`${failures} e2e test(s) failed in the extension host`);
};
