import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_TYPES,
  clientTypes,
  documentText,
  OPENAPI_DOCUMENT,
  openApiDocument,
} from '../../../scripts/openapi-document.js';
import { CLIENT_KEY, ROOT } from '../../../test/support/baton.js';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { startService } from '../../../test/support/service.js';

const run = promisify(execFile);

describe('the API contract in the repository', () => {
  it('docs/openapi.json and the client’s types are what the API gives today (npm run api:generate)', async () => {
    const document = await openApiDocument();
    expect(readFileSync(OPENAPI_DOCUMENT, 'utf8')).toBe(documentText(document));
    expect(readFileSync(CLIENT_TYPES, 'utf8')).toBe(await clientTypes(document));
  }, 60_000);

  it('describes webhook deliveries in the webhooks section: the signature header and the body’s schema', () => {
    const document = JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8')) as {
      webhooks?: Record<
        string,
        { post?: { parameters?: { name: string; in: string }[]; requestBody?: unknown } }
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    const delivery = document.webhooks?.runEvent?.post;
    expect(delivery?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Baton-Signature', in: 'header' }),
    );
    expect(JSON.stringify(delivery?.requestBody)).toContain('#/components/schemas/WebhookDelivery');
    expect(document.components.schemas.WebhookDelivery?.required).toEqual([
      'id',
      'type',
      'runId',
      'createdAt',
      'data',
    ]);
  });

  it('names every operation, tags it and declares its error answers with the envelope', async () => {
    const document = JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { operationId?: string; tags?: string[]; responses: Record<string, unknown> }>
      >;
      servers?: unknown[];
    };
    expect(document.servers?.length).toBeGreaterThan(0);
    const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, ...op })),
    );
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(op.tags?.length, op.at).toBeGreaterThan(0);
      expect(op.responses['500'], op.at).toBeDefined();
    }
  });

  it('passes Redocly’s recommended rules with no error and no warning', async () => {
    const output = await run(
      process.execPath,
      [
        resolve(ROOT, 'node_modules/@redocly/cli/bin/cli.js'),
        'lint',
        'docs/openapi.json',
        '--format=summary',
      ],
      { cwd: ROOT },
    ).then(
      (r) => `${r.stdout}${r.stderr}`,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout}${err.stderr}`,
    );
    expect(output).toMatch(/Your API description is valid/);
    expect(output).not.toMatch(/You have \d+ warnings?/);
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
