// Lints of the extension's sources (model: web-eid-webextension's eslint.config.mjs).
// `npm run lint` (scripts/test.sh). Types are tsc's business (tsconfig.json).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['dist/', 'pkg/', 'node_modules/'] },
  js.configs.recommended,
  {
    files: ['src/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.webextensions },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Content scripts and the page's LiberSign object are classic scripts, not modules.
    files: ['src/content/**/*.js'],
    // Firefox's content scripts clone objects into the page with cloneInto.
    languageOptions: { sourceType: 'script', globals: { cloneInto: 'readonly' } },
  },
  {
    files: ['src/pli/hash-worker.js'],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ['eslint.config.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
];
