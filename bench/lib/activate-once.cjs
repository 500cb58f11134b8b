// Loads the production bundle in a fresh process with a stand-in `vscode` module and prints how long
// `require` + `activate()` took, in milliseconds. The stand-in answers every API call at once, so
// this measures the extension's own activation work, not VS Code's.
const Module = require('node:module');

function stub() {
  const fn = function () {};
  return new Proxy(fn, {
    get(_t, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => '';
      if (key === Symbol.iterator) return function* () {};
      return stub();
    },
    set: () => true,
    apply: () => stub(),
    construct: () => stub(),
  });
}

// Real own keys, so the bundle's ESM interop can copy the namespace.
const vscode = Object.fromEntries(
  [
    'window',
    'workspace',
    'commands',
    'languages',
    'env',
    'extensions',
    'l10n',
    'tasks',
    'tests',
    'Uri',
    'EventEmitter',
    'Disposable',
    'ThemeColor',
    'ThemeIcon',
    'MarkdownString',
    'StatusBarAlignment',
    'TreeItem',
    'TreeItemCollapsibleState',
    'Range',
    'Position',
    'Diagnostic',
    'DiagnosticSeverity',
    'RelativePattern',
    'CancellationTokenSource',
  ].map((k) => [k, stub()]),
);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };

const bundle = process.argv[2];
const started = performance.now();
const extension = require(bundle);
const context = {
  subscriptions: [],
  extensionUri: stub(),
  extension: stub(),
  environmentVariableCollection: stub(),
  globalStorageUri: { fsPath: require('node:path').join(require('node:os').tmpdir(), 'isb-bench-storage') },
};
extension.activate(context);
const elapsed = performance.now() - started;
process.stdout.write(`${elapsed.toFixed(3)}\n`);
process.exit(0);
