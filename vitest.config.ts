import { defineConfig } from 'vitest/config';

// In CI a JSON report is written too, so .ci/run can refuse a run in which any test was skipped.
const ci = process.env.CI === 'true' || process.env.CI === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ci ? ['default', ['json', { outputFile: '.ci/results.json' }]] : ['default'],
  },
});
