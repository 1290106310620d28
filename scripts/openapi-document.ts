import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { pino } from 'pino';
import { buildApi } from '../src/api/app.js';
import { loadConfig } from '../src/config/index.js';
import { startEmbeddedRedis } from '../src/embedded-redis.js';
import { apiDeps, createServices } from '../src/services.js';

/** The API's OpenAPI document as the repository keeps it (Redocly lints it; readers and tools use it). */
export const OPENAPI_DOCUMENT = new URL('../docs/openapi.json', import.meta.url);
/** Where the client's generated types live. */
export const CLIENT_TYPES = new URL('../packages/client/src/openapi.ts', import.meta.url);

/** The OpenAPI document the API serves at /openapi.json, from an API built in this process. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-openapi-'));
  const redis = await startEmbeddedRedis(dir);
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_API_KEYS: 'openapi-document-key:admin',
    LOG_LEVEL: 'silent',
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  try {
    const app = await buildApi(apiDeps(config, services, log));
    await app.ready();
    const document = app.swagger() as Record<string, unknown>;
    await app.close();
    return document;
  } finally {
    await services.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The document as docs/openapi.json holds it. */
export function documentText(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The client's types for `document`, as `openapi-typescript` writes them, with our header. */
export async function clientTypes(document: Record<string, unknown>): Promise<string> {
  // The document is what @fastify/swagger produced: an OpenAPI 3.1 object.
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0]);
  return [
    "// Generated from the baton API's OpenAPI document by `npm run api:generate`; do not edit.",
    '',
    astToString(ast),
  ].join('\n');
}
