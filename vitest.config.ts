import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'evals/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine by default (cores − 1); most files wait on child
    // processes, Redis and HTTP rather than compute, so two at a time nearly halves the suite there.
    maxWorkers: 2,
    globalSetup: ['test/support/prerequisites.ts', 'test/support/scratch-tmpdir.ts'],
  },
});
