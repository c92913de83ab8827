import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    // `.only` left in a test would silently skip the rest of the suite in CI.
    allowOnly: !process.env.CI,
    testTimeout: 60_000,
    // Suites start a real PostgreSQL in their hooks; on a loaded 2-core machine that can take a while.
    hookTimeout: 120_000,
  },
});
