import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Stops, by pid, the Redis Clusters that redis-cluster tests start on first use.
    globalSetup: ['test/fixtures/redis-global-setup.ts'],
  },
});
