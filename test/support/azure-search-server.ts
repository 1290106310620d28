import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { closeServer, listen, sleep } from './azure-openai-server.js';
import {
  bearerToken,
  type CountedFault,
  FaultCounter,
  type FixtureRequest,
  guarded,
  handleControl,
  header,
  RequestLog,
  readInto,
  sendJson,
  sendText,
  serveFromCommandLine,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A local Azure AI Search service: the data-plane query REST API over plain `node:http`.
 *
 * - `POST /indexes/{index}/docs/search?api-version=2024-07-01` (also `2023-11-01`) with a JSON body
 *   `{ search, top?, skip?, select?, filter?, searchFields?, searchMode?, queryType?, count? }`;
 *   `GET /indexes/{index}/docs?api-version=…&search=…&$top=…&$select=…&$filter=…` is the same query.
 * - Answers `{ "@odata.context": "{url}/indexes('{index}')/$metadata#docs(*)", "@odata.count"?, "value": [
 *   { "@search.score", ...document fields } ] }`, ranked by a TF-IDF score over the documents loaded at start
 *   (ties by key). `search` `*` or empty matches everything with score 1. `select` is a comma-separated field list
 *   (unknown fields → 400). `queryType: 'semantic'` adds `@search.rerankerScore` (0–4).
 * - `filter`: the OData subset `field eq|ne value` (string, number, boolean, null) joined by `and`/`or`; anything
 *   else is 400 "Invalid expression", like the service refusing a bad filter.
 * - Auth: `api-key` (one of `apiKeys`, default `['test-key']`) or `Authorization: Bearer` (one of `bearerTokens`,
 *   default any). No credential → 401; a wrong key or rejected token → 403 with an empty body, like the service.
 *   Unknown index → 404; missing or unsupported api-version → 400.
 * - Faults (`setBehaviour`), each for the next `count` queries (default all), in this order: `hang`, `rateLimit`
 *   (429 with `Retry-After`), `fail` (status, default 503). `latencyMs` delays every answer.
 *
 * From another process: `node --import tsx test/support/azure-search-server.ts [port]` (a `kb` index of three
 * documents about baton) prints `{"url": …}`; `PUT /_control/behaviour`, `GET /_control/requests`.
 */

export const SEARCH_API_VERSIONS = ['2024-07-01', '2023-11-01'];

export type SearchDocument = Record<string, unknown>;

export interface SearchIndexSpec {
  /** The key field (default `id`). */
  key?: string;
  documents: SearchDocument[];
}

export interface SearchBehaviour {
  hang?: CountedFault;
  /** 429 with `Retry-After: {retryAfterSeconds}` (default 1). */
  rateLimit?: CountedFault & { retryAfterSeconds?: number };
  /** `status` (default 503). */
  fail?: CountedFault & { status?: number };
  latencyMs?: number;
}

export interface AzureSearchServerOptions {
  port?: number;
  indexes: Record<string, SearchIndexSpec>;
  apiKeys?: string[];
  /** Accepted Entra ID bearer tokens; default any non-empty token. */
  bearerTokens?: string[];
  behaviour?: SearchBehaviour;
}

export interface SearchQuery {
  search?: string;
  top?: number;
  skip?: number;
  select?: string;
  filter?: string;
  searchFields?: string;
  searchMode?: 'any' | 'all';
  queryType?: 'simple' | 'full' | 'semantic';
  count?: boolean;
}

export interface SearchRequest extends FixtureRequest {
  /** The index named in the path. */
  index: string | undefined;
}

export interface AzureSearchServer {
  url: string;
  port: number;
  requests: SearchRequest[];
  setBehaviour(behaviour: SearchBehaviour): void;
  waitForRequest(
    predicate: (request: SearchRequest) => boolean,
    options?: WaitOptions,
  ): Promise<SearchRequest[]>;
  close(): Promise<void>;
}

class InvalidQuery extends Error {}

const tokenize = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join(' ');
  return '';
}

/** Parses the supported OData filter subset into a predicate. */
export function parseFilter(filter: string, fields: Set<string>): (doc: SearchDocument) => boolean {
  const tokens = filter.match(/'(?:[^']|'')*'|\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const fail = (why: string): never => {
    throw new InvalidQuery(`Invalid expression: ${why}\nParameter name: $filter`);
  };
  const literal = (token: string | undefined): unknown => {
    if (token === undefined) return fail('Expression expected at the end of the filter.');
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
    return fail(`Syntax error at '${token}'.`);
  };
  const comparison = (): ((doc: SearchDocument) => boolean) => {
    if (tokens[pos] === '(') {
      pos++;
      const inner = disjunction();
      if (tokens[pos++] !== ')') fail("')' expected.");
      return inner;
    }
    const field = tokens[pos++];
    const op = tokens[pos++];
    const value = literal(tokens[pos++]);
    if (!field || !fields.has(field))
      fail(`Could not find a property named '${field}' on type 'search.document'.`);
    if (op !== 'eq' && op !== 'ne') fail(`Unsupported operator '${op}'.`);
    return (doc) => ((doc[field as string] ?? null) === value) === (op === 'eq');
  };
  const conjunction = () => {
    let left = comparison();
    while (tokens[pos] === 'and') {
      pos++;
      const [l, r] = [left, comparison()];
      left = (doc) => l(doc) && r(doc);
    }
    return left;
  };
  function disjunction(): (doc: SearchDocument) => boolean {
    let left = conjunction();
    while (tokens[pos] === 'or') {
      pos++;
      const [l, r] = [left, conjunction()];
      left = (doc) => l(doc) || r(doc);
    }
    return left;
  }
  const predicate = disjunction();
  if (pos < tokens.length) fail(`Syntax error at '${tokens[pos]}'.`);
  return predicate;
}

class LocalIndex {
  readonly key: string;
  readonly fields: Set<string>;
  constructor(
    readonly name: string,
    private readonly spec: SearchIndexSpec,
  ) {
    this.key = spec.key ?? 'id';
    this.fields = new Set(spec.documents.flatMap((d) => Object.keys(d)));
    for (const doc of spec.documents) {
      if (doc[this.key] === undefined)
        throw new Error(`index ${name}: a document has no key field '${this.key}'`);
    }
  }

  query(q: SearchQuery): { results: SearchDocument[]; count: number } {
    const select = q.select?.trim() ? q.select.split(',').map((f) => f.trim()) : undefined;
    for (const field of select ?? []) {
      if (field !== '*' && !this.fields.has(field)) {
        throw new InvalidQuery(
          `Invalid expression: Could not find a property named '${field}' on type 'search.document'.\nParameter name: $select`,
        );
      }
    }
    const searchFields = q.searchFields?.trim() ? q.searchFields.split(',').map((f) => f.trim()) : undefined;
    const matches = q.filter?.trim() ? parseFilter(q.filter, this.fields) : () => true;
    const candidates = this.spec.documents.filter(matches);
    const terms = [...new Set(tokenize(q.search ?? ''))];
    const matchAll = !q.search?.trim() || q.search.trim() === '*';

    const docTokens = candidates.map((doc) => {
      const fields = searchFields ?? Object.keys(doc);
      return tokenize(fields.map((f) => textOf(doc[f])).join(' '));
    });
    const docFrequency = new Map(
      terms.map((t) => [t, docTokens.filter((tokens) => tokens.includes(t)).length]),
    );
    const n = this.spec.documents.length;
    const scored = candidates
      .map((doc, i) => {
        if (matchAll) return { doc, score: 1 };
        const tokens = docTokens[i] ?? [];
        let score = 0;
        let matched = 0;
        for (const term of terms) {
          const tf = tokens.filter((t) => t === term).length;
          if (tf === 0) continue;
          matched++;
          score += tf * Math.log(1 + n / (docFrequency.get(term) ?? 1));
        }
        if (q.searchMode === 'all' && matched < terms.length) score = 0;
        return { doc, score: Math.round(score * 1e6) / 1e6 };
      })
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score || String(a.doc[this.key]).localeCompare(String(b.doc[this.key])));

    const top = q.top ?? 50;
    const page = scored.slice(q.skip ?? 0, (q.skip ?? 0) + top);
    const best = scored[0]?.score ?? 1;
    const results = page.map(({ doc, score }) => {
      const projected =
        select && !select.includes('*')
          ? Object.fromEntries(select.map((f) => [f, doc[f] ?? null]))
          : { ...doc };
      return {
        '@search.score': score,
        ...(q.queryType === 'semantic'
          ? { '@search.rerankerScore': Math.round((4 * score * 1e4) / best) / 1e4 }
          : {}),
        ...projected,
      };
    });
    return { results, count: scored.length };
  }
}

function queryFromGet(params: URLSearchParams): SearchQuery {
  const num = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
  return {
    search: params.get('search') ?? undefined,
    top: num('$top'),
    skip: num('$skip'),
    select: params.get('$select') ?? undefined,
    filter: params.get('$filter') ?? undefined,
    searchFields: params.get('searchFields') ?? undefined,
    searchMode: (params.get('searchMode') as SearchQuery['searchMode']) ?? undefined,
    queryType: (params.get('queryType') as SearchQuery['queryType']) ?? undefined,
    count: params.has('$count') ? params.get('$count') === 'true' : undefined,
  };
}

function validateQuery(body: unknown): SearchQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidQuery('The request is invalid. Details: parameters : The parameters field is required.');
  }
  const q = body as Record<string, unknown>;
  const check = (name: string, ok: (v: unknown) => boolean, expected: string) => {
    if (q[name] !== undefined && q[name] !== null && !ok(q[name])) {
      throw new InvalidQuery(
        `The request is invalid. Details: parameters : Cannot convert the literal '${JSON.stringify(q[name])}' to the expected type '${expected}'.`,
      );
    }
  };
  const isString = (v: unknown) => typeof v === 'string';
  const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  check('search', isString, 'Edm.String');
  check('select', isString, 'Edm.String');
  check('filter', isString, 'Edm.String');
  check('searchFields', isString, 'Edm.String');
  check('top', isCount, 'Edm.Int32');
  check('skip', isCount, 'Edm.Int32');
  check('count', (v) => typeof v === 'boolean', 'Edm.Boolean');
  check('searchMode', (v) => v === 'any' || v === 'all', 'Microsoft.Azure.Search.V2024_07_01.SearchMode');
  check(
    'queryType',
    (v) => v === 'simple' || v === 'full' || v === 'semantic',
    'Microsoft.Azure.Search.V2024_07_01.QueryType',
  );
  return q as SearchQuery;
}

export async function startAzureSearchServer(options: AzureSearchServerOptions): Promise<AzureSearchServer> {
  const apiKeys = new Set(options.apiKeys ?? ['test-key']);
  const indexes = new Map(
    Object.entries(options.indexes).map(([name, spec]) => [name, new LocalIndex(name, spec)]),
  );
  const log = new RequestLog<SearchRequest>();
  let behaviour = options.behaviour ?? {};
  let faults = new FaultCounter();
  let baseUrl = '';

  const error = (message: string, code = '') => ({ error: { code, message } });

  /** 401 without credentials, 403 for a wrong key or rejected token, undefined when accepted. */
  const authProblem = (req: IncomingMessage): number | undefined => {
    const key = header(req.headers, 'api-key');
    const token = bearerToken(req.headers);
    if (key !== undefined) return apiKeys.has(key) ? undefined : 403;
    if (token !== undefined)
      return !options.bearerTokens || options.bearerTokens.includes(token) ? undefined : 403;
    return 401;
  };

  async function search(
    req: IncomingMessage,
    res: ServerResponse,
    record: SearchRequest,
    index: string,
    post: boolean,
    url: URL,
  ) {
    const version = record.query['api-version'];
    if (!version || !SEARCH_API_VERSIONS.includes(version)) {
      return sendJson(
        res,
        record,
        400,
        error(
          version
            ? `Invalid or unsupported api-version '${version}'. Supported: ${SEARCH_API_VERSIONS.join(', ')}.`
            : 'Invalid or missing api-version query string parameter.',
        ),
      );
    }
    const problem = authProblem(req);
    if (problem === 403) return sendText(res, record, 403, '', 'text/plain');
    if (problem === 401) {
      return sendJson(
        res,
        record,
        401,
        error('Authentication failed: no api-key or bearer token was provided.'),
      );
    }
    const target = indexes.get(index);
    if (!target) {
      return sendJson(res, record, 404, error(`The index '${index}' for service 'local' was not found.`));
    }

    const b = behaviour;
    const counter = faults;
    if (counter.take('hang', b.hang)) {
      record.fault = 'hang';
      log.notify();
      return;
    }
    await sleep(b.latencyMs ?? 0);
    if (res.destroyed) return;
    if (counter.take('rateLimit', b.rateLimit)) {
      record.fault = 'rateLimit';
      return sendJson(
        res,
        record,
        429,
        error('You are sending too many requests. Please try again later.', 'TooManyRequests'),
        { 'retry-after': String(b.rateLimit?.retryAfterSeconds ?? 1) },
      );
    }
    if (counter.take('fail', b.fail)) {
      record.fault = 'fail';
      const status = b.fail?.status ?? 503;
      return sendJson(
        res,
        record,
        status,
        error(
          status === 503
            ? 'Service Unavailable: the search service is too busy to process the request.'
            : `Scripted failure with status ${status}.`,
        ),
      );
    }

    let query: SearchQuery;
    try {
      if (post && record.rawBody && record.body === undefined) {
        throw new InvalidQuery('The request is invalid. Details: parameters : The body is not valid JSON.');
      }
      query = post ? validateQuery(record.body) : queryFromGet(url.searchParams);
      const { results, count } = target.query(query);
      const selected = query.select?.trim() ? query.select.replace(/\s+/g, '') : '*';
      return sendJson(res, record, 200, {
        '@odata.context': `${baseUrl}/indexes('${index}')/$metadata#docs(${selected})`,
        ...(query.count ? { '@odata.count': count } : {}),
        value: results,
      });
    } catch (err) {
      if (err instanceof InvalidQuery) return sendJson(res, record, 400, error(err.message));
      throw err;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const controlled = await handleControl(req, res, url, {
      setBehaviour: (next: SearchBehaviour) => {
        behaviour = next;
        faults = new FaultCounter();
      },
      requests: () => log.items,
    });
    if (controlled) return;
    const postPath = /^\/indexes\/([^/]+)\/docs\/search$/.exec(url.pathname);
    const getPath = /^\/indexes\/([^/]+)\/docs$/.exec(url.pathname);
    const index = decodeURIComponent((postPath ?? getPath)?.[1] ?? '') || undefined;
    const record = log.start(req, res, url, { index });
    await readInto(req, record);
    if (postPath && req.method === 'POST') return search(req, res, record, index ?? '', true, url);
    if (getPath && req.method === 'GET') return search(req, res, record, index ?? '', false, url);
    sendJson(
      res,
      record,
      404,
      error(`No HTTP resource was found that matches the request URI '${url.pathname}'.`),
    );
  }

  const server: Server = createServer(guarded(handle));
  return listen(server, options.port ?? 0, (url, port) => {
    baseUrl = url;
    return {
      url,
      port,
      requests: log.items,
      setBehaviour(next) {
        behaviour = next;
        faults = new FaultCounter();
      },
      waitForRequest: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
      close: () => closeServer(server),
    };
  });
}

/** Three small documents about baton, for the command-line server and quick tests. */
export const SAMPLE_DOCUMENTS: SearchDocument[] = [
  {
    id: '1',
    title: 'Retry policy',
    content:
      'Each agent call is retried with exponential backoff; the circuit breaker opens after repeated failures.',
    category: 'resilience',
  },
  {
    id: '2',
    title: 'Journal and replay',
    content:
      'Completed steps are written to the Redis journal, so a crashed run replays without calling the model again.',
    category: 'durability',
  },
  {
    id: '3',
    title: 'Handoff pattern',
    content: 'In the handoff pattern an agent passes the conversation to a specialist agent.',
    category: 'patterns',
  },
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveFromCommandLine((port) =>
    startAzureSearchServer({ port, indexes: { kb: { documents: SAMPLE_DOCUMENTS } } }),
  );
}
