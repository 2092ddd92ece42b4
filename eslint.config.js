// Type-aware lint for the whole project: typescript-eslint's strict set (which includes recommended),
// with the type information of tsconfig.json.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.agentplane/', 'bench/results/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans print as themselves; `undefined`, `null`, objects and `any` in a text are mistakes.
      // (Options replace the strict preset's, so every one is stated.)
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowAny: false, allowNullish: false, allowRegExp: false, allowNever: false, allowArray: false },
      ],
      // Dropping fields by destructuring (`const { pk: _pk, ...rest } = item`) and unused parameters a signature
      // requires are intended: the leading underscore says so.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests: fakes implement async interfaces without awaiting, and a `!` on a value the test just asserted
    // fails the test as loudly as an expectation would.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
