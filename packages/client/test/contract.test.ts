import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TYPES, clientTypes, openApiDocument } from '../../../scripts/openapi-document.js';
import { CLIENT_KEY, ROOT } from '../../../test/support/baton.js';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { startService } from '../../../test/support/service.js';

const run = promisify(execFile);

describe('the client’s generated types', () => {
  it('are the ones the API’s OpenAPI document gives today (npm run client:types)', async () => {
    const fresh = await clientTypes(await openApiDocument());
    expect(readFileSync(CLIENT_TYPES, 'utf8')).toBe(fresh);
  }, 60_000);
});

describe('the README’s complete program', () => {
  let redis: TestRedis;
  let service: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    redis = await startRedis();
    service = await startService(redis);
  });
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
  });

  it('is under 20 lines and runs against a live service: create → stream → result', async () => {
    const readme = readFileSync(resolve(ROOT, 'packages/client/README.md'), 'utf8');
    const program = /## A complete program\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(program.trim().split('\n').length).toBeLessThan(20);
    const dir = resolve(ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'client-readme-program.ts');
    writeFileSync(file, program);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, BATON_URL: service.url, BATON_KEY: CLIENT_KEY },
    });
    expect(stdout).toMatch(/summarizer: \d+ ms/);
    expect(stdout).toContain('succeeded');
    expect(stdout).toContain('"isBusiness": true');
  }, 60_000);
});
