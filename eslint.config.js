// ESLint for ha (npm run lint, which test/run.sh runs before the tests): the type-aware rules of
// typescript-eslint that catch real bugs in a program that fails over databases (a promise nobody
// awaits, a promise passed where a callback's result is ignored, a switch that misses a state),
// and none whose only job is style: layout is Prettier's (see prettier.config.js).
// Typed linting uses tsconfig.eslint.json: the build's tsconfig.json plus bench/, demo/ and the
// two config files, so one TypeScript program covers every linted file.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'bench-data/'] },
  // An eslint-disable comment that no longer disables anything is an error: each one says why it is there.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts', '**/*.js'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)) },
    },
    rules: {
      // A failover step that runs on without waiting for (or hearing about the failure of) a
      // promise is the worst bug this code can have. node:test's test()/describe() return promises
      // that the runner tracks itself: awaiting them is not needed.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      // `return promise` inside try/catch/finally (or a `using` scope) without await: the catch and
      // the finally do not cover its rejection. Only those cases; elsewhere `return await` is style.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // A switch over a union (a phase, a replication mode, an SSH failure kind) without a case for
      // every member and without a default: a member added later would fall through silently. A
      // default clause counts as handling the rest.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `.catch((e) => e.message)` crashes the error path when something throws a non-Error.
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'error',
      // A deprecated API of mysql2, ssh2 or Node may change or go away under us.
      '@typescript-eslint/no-deprecated': 'error',
      // Spreading a promise, a string or a Map into an object or array is never what was meant.
      '@typescript-eslint/no-misused-spread': 'error',
      eqeqeq: 'error',
      'prefer-const': 'error',
      // tsc's noUnusedLocals/noUnusedParameters report these too; here `_name` marks "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Numbers, booleans, null/undefined and mysql2's `any` row values in messages are fine (an
      // exit code of null prints as "null"); an object, an array or an `unknown` printing as
      // "[object Object]" or "a,b" is the mistake worth catching (no-base-to-string catches the rest).
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowAny: true, allowRegExp: true, allowNever: false },
      ],

      // Off, each for a reason:
      // - require-await: the async functions without an await here implement an async interface
      //   (fakes in tests, Remote.size). Dropping `async` to please the rule would turn a throw into
      //   a synchronous exception instead of a rejected promise: a behaviour change, not a fix.
      //   Missing awaits are what no-floating-promises is for.
      '@typescript-eslint/require-await': 'off',
      // - no-fallthrough: tsc's noFallthroughCasesInSwitch checks the same with types (a case
      //   ending in process.exit() or fail(), which return never, does not fall through).
      'no-fallthrough': 'off',
      // - no-control-regex: the code matches ANSI colour codes (\x1b[...m) on purpose.
      'no-control-regex': 'off',
      // Not enabled (strict-type-checked rules), for the record:
      // - no-unnecessary-condition: most of what it flags here is needed at run time: loop flags
      //   that a signal handler or another async task sets (`while (!stop)`), and checks on
      //   JSON.parse'd state files and mysql2 rows whose static types are only a promise. "Fixing"
      //   those would remove the checks that keep a failover safe.
      // - no-non-null-assertion: with noUncheckedIndexedAccess, `rows[0]!` after a length check is
      //   the idiom (hundreds of them), not a smell.
    },
  },
  {
    // bin/ha: plain JavaScript outside any tsconfig (it only imports dist/), so no typed rules.
    files: ['bin/ha'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly' } },
    rules: { eqeqeq: 'error', 'prefer-const': 'error' },
  },
);
