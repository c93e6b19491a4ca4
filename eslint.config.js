// Standard style (neostandard: ESLint flat config with typescript-eslint), as the code is already written.
// `npm run lint` checks it; `npm run lint -- --fix` repairs what can be repaired mechanically.
import neostandard from 'neostandard'
import globals from 'globals'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'dist-bench/**', 'data/**', 'node_modules/**', 'test-artifacts/**', 'bench-results/**', 'coverage/**']
  }),
  {
    // The softphone runs in the browser (and its worklet on the audio thread), not in Node.
    files: ['public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } }
  },
  {
    rules: {
      // `void promise()` is how this code marks a promise it deliberately leaves running (an event
      // handler that starts work). Allowed as a statement only, so `void` never hides a value.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
