import { defineConfig } from 'vitest/config';

// Unit tests: pure code and mocked AWS clients, no network, no local cloud.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'threads',
  },
});
