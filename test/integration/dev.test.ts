import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runs/schema.js';
import { type BatonProcess, client, startBaton } from '../support/baton.js';
import { freePort } from '../support/redis.js';

const sh = promisify(execFile);
let dev: BatonProcess | undefined;
afterAll(async () => {
  await dev?.kill();
});

describe('baton dev', () => {
  it('starts API + worker + embedded Redis, and the printed curl example creates a run that succeeds', async () => {
    const port = await freePort();
    dev = startBaton('dev', {
      PORT: String(port),
      BATON_DATA_DIR: mkdtempSync(join(tmpdir(), 'baton-dev-')),
    });
    await dev.waitFor(/Try it:[\s\S]*\/v1\/runs\/<id> -H/);
    const banner = dev.output();
    expect(banner).toMatch(/simulated model: offline, SIMULATED answers/);
    const key = /export BATON_KEY=(\S+)/.exec(banner)?.[1] ?? '';
    expect(key).toMatch(/^baton_dev_/);

    // Run the printed POST exactly as a newcomer would paste it.
    const post = /(curl -s -X POST [^\n]*\\\n[^\n]*)/.exec(banner)?.[1] ?? '';
    expect(post).toContain(`http://127.0.0.1:${port}/v1/runs`);
    const { stdout } = await sh('bash', ['-c', post], { env: { ...process.env, BATON_KEY: key } });
    const created = JSON.parse(stdout) as RunRecord;
    expect(created.status).toBe('queued');

    const done = await client(`http://127.0.0.1:${port}`, key).waitForStatus(created.id, [
      'succeeded',
      'failed',
    ]);
    expect(done.status).toBe('succeeded');
    expect(done.steps.length).toBe(5);
    expect(done.steps.every((s) => s.durationMs >= 0 && s.usage.outputTokens > 0)).toBe(true);
    expect(done.output?.structured).toMatchObject({ isBusiness: true });
  }, 60_000);

  it('explains how to get Redis when redis-server is not installed', async () => {
    const port = await freePort();
    const proc = startBaton('dev', { PORT: String(port), PATH: '/nonexistent' });
    const code = await new Promise<number | null>((r) => proc.child.once('exit', r));
    expect(code).toBe(1);
    expect(proc.output()).toMatch(
      /no redis-server was found on your PATH[\s\S]*docker compose up -d redis[\s\S]*REDIS_URL/,
    );
  });
});
