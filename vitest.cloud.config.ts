import { defineConfig } from 'vitest/config';

// Integration (local cloud internals allowed) and e2e (public REST and WebSocket API only) tests share one
// local cloud, started once per run by the global setup (or an existing target named by AGENTPLANE_LOCAL_JSON).
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
