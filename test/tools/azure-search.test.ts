import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { searchSource } from '../../src/tools/search.js';
import { createTestEngine } from '../support/engine.js';

/**
 * `kind: search` with `azure`: a local server speaking Azure AI Search's documents search REST API
 * (`POST /indexes/<index>/docs/search?api-version=…`, `api-key` header, `{ value: [...] }` answers).
 */
let server: Server;
let endpoint: string;
const queries: { path: string; key: string | undefined; body: Record<string, unknown> }[] = [];
const KEY = 'query-key-from-env';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      queries.push({
        path: req.url ?? '',
        key: req.headers['api-key'] as string | undefined,
        body: JSON.parse(body),
      });
      if (req.headers['api-key'] !== KEY) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"message":"Forbidden"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          value: [
            {
              '@search.score': 2.7512,
              id: 'doc-7',
              title: 'Refund policy',
              content: 'Refunds within 30 days.',
            },
            { '@search.score': 1.5, id: 'doc-2', title: 'Invoices', content: 'Invoices are issued monthly.' },
          ],
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function engineWith(secrets: Map<string, string>) {
  const input: TeamDefinitionInput = {
    name: 'azure-kb',
    description: 'Searches an Azure AI Search index.',
    agents: [
      {
        name: 'clerk',
        description: 'Answers from the docs.',
        instructions: 'Search, then answer citing ids.',
        tools: ['docs'],
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
    tools: [
      {
        name: 'docs',
        kind: 'search',
        description: 'Search the product docs.',
        azure: { endpoint, index: 'product-docs', key: '${env:SEARCH_KEY}', titleField: 'title' },
        top: 2,
        retry: { maxAttempts: 1 },
      },
    ],
  };
  return createTestEngine({
    teams: new Map([['azure-kb', teamDefinitionSchema.parse(input)]]),
    tools: new ToolRuntime({
      secrets,
      maxResultChars: 16_000,
      sources: { search: searchSource('.', secrets) },
    }),
  });
}

describe('Azure AI Search tools', () => {
  it('queries the index over REST with the key from BATON_TOOL_SECRETS and returns passages with ids', async () => {
    queries.length = 0;
    const out = await engineWith(new Map([['SEARCH_KEY', KEY]])).run({
      team: 'azure-kb',
      pattern: 'sequential',
      input: 'How long do refunds take?',
    });
    expect(queries).toHaveLength(1);
    expect(queries[0]?.path).toBe('/indexes/product-docs/docs/search?api-version=2024-07-01');
    expect(queries[0]?.body).toMatchObject({ search: 'How long do refunds take?', top: 2 });
    expect(out.output?.text).toContain('{"results":[{"id":"doc-7","title":"Refund policy","score":2.75');
    expect(JSON.stringify(out.journal.entries())).not.toContain(KEY);
  });

  it('shows the model a refused query as a tool error', async () => {
    const out = await engineWith(new Map([['SEARCH_KEY', 'wrong']])).run({
      team: 'azure-kb',
      pattern: 'sequential',
      input: 'How long do refunds take?',
    });
    expect(out.steps.find((s) => s.kind === 'tool')).toMatchObject({
      status: 'failed',
      error: { code: 'TOOL_HTTP_ERROR' },
    });
    expect(out.output?.text).toContain('Azure AI Search answered HTTP 403');
  });
});
