import { describe, expect, it } from 'vitest';
import { found, missingPrerequisites, prerequisites } from './prerequisites.js';

describe('test prerequisites', () => {
  it('names each missing system package with how to install it', () => {
    const saved = process.env.PATH;
    const redisUrl = process.env.REDIS_URL;
    process.env.PATH = '/nonexistent';
    delete process.env.REDIS_URL;
    try {
      const missing = missingPrerequisites().join('\n');
      expect(missing).toContain(
        'redis-server is missing (tests start private Redis servers): apt install redis-server',
      );
      // REDIS_URL makes a local redis-server unnecessary.
      process.env.REDIS_URL = 'redis://127.0.0.1:1';
      expect(missingPrerequisites().join('\n')).not.toContain('redis-server');
    } finally {
      process.env.PATH = saved;
      if (redisUrl === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = redisUrl;
    }
  });

  it('finds what this machine has installed', () => {
    for (const p of prerequisites) expect(found(p.command), p.command).toBe(true);
  });
});
