import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // `.only` left in a test would silently skip the rest of the suite in CI.
    allowOnly: !process.env.CI,
    testTimeout: 60_000,
  },
});
