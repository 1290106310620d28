import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import MiniSearch from 'minisearch';
import { ToolError } from '../core/errors.js';
import { substituteSecrets, type ToolAttempt } from './http.js';
import type { ExecutableTool, ToolSource } from './runtime.js';
import type { SearchToolDeclaration } from './schema.js';

/**
 * `kind: search` over an embedded index: the team's Markdown and JSON documents under `source` (a folder and a
 * `*` file pattern, relative to the teams folder), indexed with MiniSearch (BM25 ranking, prefix and fuzzy
 * matching) once per worker, and searched by the model's query. Each hit is a passage with the article's id, so
 * answers can cite it.
 */

export interface Article {
  id: string;
  title: string;
  text: string;
}

/** The search tool's arguments, as the model sees them. */
export const searchParameters = {
  type: 'object',
  properties: { query: { type: 'string', minLength: 1, description: 'What to look for, in words.' } },
  required: ['query'],
  additionalProperties: false,
} as const;

/** Characters of an article a hit quotes. */
const PASSAGE_CHARS = 600;

/** Files a `dir/*.md` pattern names, inside `root` only (a pattern may not leave the teams folder). */
export function filesMatching(root: string, pattern: string): string[] {
  const full = resolve(root, pattern);
  const rel = relative(resolve(root), full);
  if (rel.startsWith('..') || resolve(root, rel) !== full) {
    throw new ToolError(
      'TOOL_NOT_ALLOWED',
      `The search source "${pattern}" is outside the teams folder.`,
      false,
    );
  }
  const dir = dirname(full);
  const name = basename(full);
  const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Articles of one file: a Markdown article (its `# ` heading is the title), or a JSON array of articles. */
export function articlesOf(file: string): Article[] {
  const text = readFileSync(file, 'utf8');
  const id = basename(file, extname(file));
  if (extname(file).toLowerCase() === '.json') {
    const value: unknown = JSON.parse(text);
    const list = Array.isArray(value) ? value : [value];
    return list.flatMap((a, i) => {
      if (typeof a !== 'object' || a === null) return [];
      const r = a as Record<string, unknown>;
      const body = String(r.text ?? r.content ?? '');
      return [{ id: String(r.id ?? `${id}-${i}`), title: String(r.title ?? ''), text: body }];
    });
  }
  const heading = /^#\s+(.+)$/m.exec(text);
  const body = text.replace(/^#\s+.+$/m, '').trim();
  return [{ id, title: heading?.[1]?.trim() ?? id, text: body }];
}

/** An index over articles, and the passages a query finds. */
export function articleIndex(articles: readonly Article[]) {
  const index = new MiniSearch<Article>({
    fields: ['title', 'text'],
    storeFields: ['title', 'text'],
    searchOptions: { boost: { title: 2 }, prefix: true, fuzzy: 0.2 },
  });
  index.addAll(articles);
  return {
    size: articles.length,
    search(query: string, top: number) {
      return index
        .search(query)
        .slice(0, top)
        .map((hit) => ({
          id: String(hit.id),
          title: String(hit.title),
          score: Math.round(hit.score * 100) / 100,
          text: String(hit.text).slice(0, PASSAGE_CHARS),
        }));
    },
  };
}

const AZURE_SEARCH_API_VERSION = '2024-07-01';

/**
 * One query against an Azure AI Search index over its REST API (`POST /indexes/<index>/docs/search`), with the
 * query key from `${env:NAME}`; hits become passages like the embedded index's.
 */
async function azureQuery(
  tool: SearchToolDeclaration,
  azure: NonNullable<SearchToolDeclaration['azure']>,
  query: string,
  attempt: ToolAttempt,
  secrets: ReadonlyMap<string, string>,
): Promise<string> {
  if (azure.key === undefined) {
    throw new ToolError(
      'TOOL_NOT_ALLOWED',
      'This worker queries Azure AI Search with a key only; set azure.key.',
      false,
    );
  }
  const url = new URL(
    `indexes/${encodeURIComponent(azure.index)}/docs/search`,
    `${azure.endpoint.replace(/\/$/, '')}/`,
  );
  url.searchParams.set('api-version', AZURE_SEARCH_API_VERSION);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': substituteSecrets(azure.key, secrets) },
    body: JSON.stringify({ search: query, top: tool.top, queryType: 'simple' }),
    redirect: 'error',
    signal: attempt.signal,
  });
  const text = await res.text();
  if (!res.ok) {
    const retryable = res.status === 429 || res.status >= 500;
    throw new ToolError(
      'TOOL_HTTP_ERROR',
      `Azure AI Search answered HTTP ${res.status}: ${text.slice(0, 300)}`,
      retryable,
      {
        status: res.status,
      },
    );
  }
  const hits = (JSON.parse(text) as { value?: Record<string, unknown>[] }).value ?? [];
  const results = hits.map((h) => ({
    id: String(h[azure.idField] ?? ''),
    title: azure.titleField ? String(h[azure.titleField] ?? '') : '',
    score: Math.round(Number(h['@search.score'] ?? 0) * 100) / 100,
    text: String(h[azure.contentField] ?? '').slice(0, PASSAGE_CHARS),
  }));
  return JSON.stringify({ results });
}

/**
 * The search source: embedded indexes built once per worker and source, read from the teams folder; or Azure AI
 * Search indexes queried over REST.
 */
export function searchSource(root: string, secrets: ReadonlyMap<string, string>): ToolSource {
  const indexes = new Map<string, ReturnType<typeof articleIndex>>();
  return async (declaration) => {
    const tool = declaration as SearchToolDeclaration;
    const definition = {
      name: tool.name,
      description: tool.description,
      parameters: { ...searchParameters },
    };
    const azure = tool.azure;
    if (azure) {
      return [
        {
          definition,
          type: 'datastore',
          idempotent: true,
          declaration: tool,
          attempt: (args, attempt) => azureQuery(tool, azure, String(args.query), attempt, secrets),
        },
      ];
    }
    if (tool.source === undefined) return [];
    const source = tool.source;
    const indexFor = () => {
      let index = indexes.get(source);
      if (!index) {
        index = articleIndex(filesMatching(root, source).flatMap(articlesOf));
        indexes.set(source, index);
      }
      return index;
    };
    indexFor();
    const executable: ExecutableTool = {
      definition,
      type: 'datastore',
      idempotent: true,
      declaration: tool,
      attempt: async (args) => {
        const results = indexFor().search(String(args.query), tool.top);
        return JSON.stringify({ results });
      },
    };
    return [executable];
  };
}
