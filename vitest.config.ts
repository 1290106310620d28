import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'evals/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is cores − 1 files at a time: one on a 2-core machine. Most files wait on child processes,
    // Redis and HTTP rather than compute, so at least two at a time (737 s → 429 s on 2 cores).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/support/prerequisites.ts', 'test/support/scratch-tmpdir.ts'],
  },
});
