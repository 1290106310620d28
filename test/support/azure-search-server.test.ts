import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AzureSearchServer,
  parseFilter,
  SAMPLE_DOCUMENTS,
  type SearchRequest,
  startAzureSearchServer,
} from './azure-search-server.js';

interface SearchAnswer {
  '@odata.context': string;
  '@odata.count'?: number;
  value: ({ '@search.score': number; '@search.rerankerScore'?: number } & Record<string, unknown>)[];
}

const DOCUMENTS = [
  {
    id: 'a',
    title: 'Refund policy',
    content: 'Refunds are issued within 14 days. Refund requests need an order id.',
    lang: 'en',
    stars: 5,
  },
  {
    id: 'b',
    title: 'Shipping',
    content: 'Orders ship in two days. A refund is possible after delivery.',
    lang: 'en',
    stars: 3,
  },
  { id: 'c', title: 'Rückerstattung', content: 'Erstattungen dauern 14 Tage.', lang: 'de', stars: 4 },
  { id: 'd', title: 'Warranty', content: 'The warranty lasts two years.', lang: 'en', stars: 4 },
];

describe('local Azure AI Search server', () => {
  let server: AzureSearchServer;
  beforeAll(async () => {
    server = await startAzureSearchServer({
      indexes: { kb: { key: 'id', documents: DOCUMENTS }, empty: { documents: [] } },
      apiKeys: ['query-key'],
      bearerTokens: ['entra-token'],
    });
  });
  afterEach(() => server.setBehaviour({}));
  afterAll(() => server.close());

  const query = (
    body: unknown,
    headers: Record<string, string> = { 'api-key': 'query-key' },
    index = 'kb',
    version = '2024-07-01',
  ) =>
    fetch(`${server.url}/indexes/${index}/docs/search?api-version=${version}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers the documented shape, ranked by term frequency', async () => {
    const res = await query({ search: 'refund', top: 5, select: 'id, title' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchAnswer;
    expect(body['@odata.context']).toBe(`${server.url}/indexes('kb')/$metadata#docs(id,title)`);
    expect(body.value.map((d) => d.id)).toEqual(['a', 'b']);
    expect(Object.keys(body.value[0] ?? {})).toEqual(['@search.score', 'id', 'title']);
    const [first, second] = body.value;
    expect(first?.['@search.score']).toBeGreaterThan(second?.['@search.score'] ?? Number.POSITIVE_INFINITY);
  });

  it('accepts api-version 2023-11-01 and a bearer token; returns every field without select', async () => {
    const res = await query(
      { search: 'warranty' },
      { authorization: 'Bearer entra-token' },
      'kb',
      '2023-11-01',
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchAnswer;
    expect(body['@odata.context']).toMatch(/#docs\(\*\)$/);
    expect(body.value).toEqual([{ '@search.score': expect.any(Number), ...DOCUMENTS[3] }]);
  });

  it('honours top, skip, count, searchMode, searchFields and "*"', async () => {
    const all = (await (await query({ search: '*', count: true, top: 2, skip: 1 })).json()) as SearchAnswer;
    expect(all['@odata.count']).toBe(4);
    expect(all.value.map((d) => [d.id, d['@search.score']])).toEqual([
      ['b', 1],
      ['c', 1],
    ]);
    const any = (await (await query({ search: 'refund warranty' })).json()) as SearchAnswer;
    expect(any.value.map((d) => d.id).sort()).toEqual(['a', 'b', 'd']);
    const both = (await (
      await query({ search: 'refund delivery', searchMode: 'all' })
    ).json()) as SearchAnswer;
    expect(both.value.map((d) => d.id)).toEqual(['b']);
    const inTitle = (await (await query({ search: 'refund', searchFields: 'title' })).json()) as SearchAnswer;
    expect(inTitle.value.map((d) => d.id)).toEqual(['a']);
  });

  it('filters with the OData eq/ne/and/or subset and refuses other expressions', async () => {
    const de = (await (await query({ search: '*', filter: "lang eq 'de'" })).json()) as SearchAnswer;
    expect(de.value.map((d) => d.id)).toEqual(['c']);
    const mixed = (await (
      await query({ search: '*', filter: "(lang eq 'de' or stars eq 5) and id ne 'x'" })
    ).json()) as SearchAnswer;
    expect(mixed.value.map((d) => d.id)).toEqual(['a', 'c']);
    const bad = await query({ search: '*', filter: 'stars gt 3' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^Invalid expression/,
    );
    expect(() => parseFilter("nope eq 'x'", new Set(['id']))).toThrow(
      /Could not find a property named 'nope'/,
    );
  });

  it('adds a reranker score for semantic queries', async () => {
    const body = (await (await query({ search: 'refund', queryType: 'semantic' })).json()) as SearchAnswer;
    expect(body.value[0]?.['@search.rerankerScore']).toBe(4);
  });

  it('serves the GET form of the same query', async () => {
    const res = await fetch(
      `${server.url}/indexes/kb/docs?api-version=2024-07-01&search=refund&$top=1&$select=id`,
      {
        headers: { 'api-key': 'query-key' },
      },
    );
    expect(((await res.json()) as SearchAnswer).value).toEqual([
      { '@search.score': expect.any(Number), id: 'a' },
    ]);
  });

  it('refuses: no credential 401, wrong key or token 403, unknown index 404, bad api-version, select or body 400', async () => {
    expect((await query({ search: 'x' }, {})).status).toBe(401);
    const wrongKey = await query({ search: 'x' }, { 'api-key': 'nope' });
    expect(wrongKey.status).toBe(403);
    expect(await wrongKey.text()).toBe('');
    expect((await query({ search: 'x' }, { authorization: 'Bearer other' })).status).toBe(403);
    const missing = await query({ search: 'x' }, undefined, 'nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: '', message: "The index 'nope' for service 'local' was not found." },
    });
    expect((await query({ search: 'x' }, undefined, 'kb', '2020-01-01')).status).toBe(400);
    expect((await query({ search: 'x', select: 'id,nope' })).status).toBe(400);
    expect((await query({ search: 'x', top: 'ten' })).status).toBe(400);
    expect((await query({ search: 'x' }, undefined, 'empty')).status).toBe(200);
  });

  it('answers 503 for the next k queries, then recovers', async () => {
    server.setBehaviour({ fail: { count: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await query({ search: 'refund' })).status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('answers 429 with Retry-After', async () => {
    server.setBehaviour({ rateLimit: { count: 1, retryAfterSeconds: 7 } });
    const limited = await query({ search: 'refund' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await query({ search: 'refund' })).status).toBe(200);
  });

  it('hangs the next query and records the client giving up', async () => {
    server.setBehaviour({ hang: { count: 1 } });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/indexes/kb/docs/search?api-version=2024-07-01`, {
      method: 'POST',
      headers: { 'api-key': 'query-key', 'content-type': 'application/json' },
      body: JSON.stringify({ search: 'hang-me' }),
      signal: controller.signal,
    });
    const [hung] = await server.waitForRequest((r) => r.fault === 'hang');
    expect(hung).toMatchObject({ index: 'kb', body: { search: 'hang-me' }, clientClosed: false });
    controller.abort();
    await expect(pending).rejects.toThrow();
    await server.waitForRequest((r) => r === hung && r.clientClosed);
    expect(hung?.status).toBeUndefined();
    expect((await query({ search: 'refund' })).status).toBe(200);
  });
});

describe('local Azure AI Search server started from another process', () => {
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/azure-search-server.ts', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('serves the sample index and is scripted over HTTP', async () => {
    const search = () =>
      fetch(`${url}/indexes/kb/docs/search?api-version=2024-07-01`, {
        method: 'POST',
        headers: { 'api-key': 'test-key', 'content-type': 'application/json' },
        body: JSON.stringify({ search: 'journal replay', top: 1 }),
      });
    await fetch(`${url}/_control/behaviour`, {
      method: 'PUT',
      body: JSON.stringify({ fail: { status: 503, count: 1 } }),
    });
    expect((await search()).status).toBe(503);
    const body = (await (await search()).json()) as SearchAnswer;
    expect(body.value.map((d) => d.id)).toEqual([SAMPLE_DOCUMENTS[1]?.id]);
    const requests = (await (await fetch(`${url}/_control/requests`)).json()) as SearchRequest[];
    expect(requests.map((r) => r.status)).toEqual([503, 200]);
  });
});
