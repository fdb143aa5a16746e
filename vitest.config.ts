import { defineConfig } from 'vitest/config';

// chdb crashes under worker threads (ARCHITECTURE.md, infrastructure notes): forks only.
// The JSON report is what .ci/run counts, so a run that executed no test shows as such.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/vitest-report.json' },
  },
});
