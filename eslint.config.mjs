// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const noVscode = {
  paths: [{ name: 'vscode', message: 'src/core and src/protocol know no editor: adapt in src/extension instead.' }],
  patterns: [{ group: ['vscode/*'], message: 'src/core and src/protocol know no editor.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'dist-pkg/**', 'node_modules/**', '.vscode-test/**', 'test/e2e/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='shell'][value.value=true]", message: 'No shell: argument arrays only.' },
      ],
    },
  },
  {
    files: ['src/core/**', 'src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', noVscode],
      '@typescript-eslint/no-restricted-imports': ['error', noVscode],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/e2e/suite/**'],
    languageOptions: { globals: { ...globals.mocha } },
  },
  {
    files: ['webview/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
