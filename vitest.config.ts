import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native WebRTC in worker threads is fragile; forks give each file its own process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Integration files each run a service and many peer connections on two cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
