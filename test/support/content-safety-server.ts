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
  serveFromCommandLine,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A local Azure AI Content Safety resource: the text REST API over plain `node:http`.
 *
 * - `POST /contentsafety/text:shieldPrompt?api-version=2024-09-01` — Prompt Shields. Body
 *   `{ userPrompt?, documents?: string[] }` → `{ userPromptAnalysis: { attackDetected }, documentsAnalysis:
 *   [{ attackDetected }] }`. An attack is detected when the text contains one of `attackPhrases`
 *   (case-insensitive; default "ignore previous instructions", "ignore all prior instructions", "you are now",
 *   "system prompt", …).
 * - `POST /contentsafety/text:analyze?api-version=2024-09-01` (also `2023-10-01`) — harm categories. Body
 *   `{ text, categories?, outputType?, blocklistNames?, haltOnBlocklistHit? }` → `{ blocklistsMatch: [...],
 *   categoriesAnalysis: [{ category: 'Hate'|'SelfHarm'|'Sexual'|'Violence', severity }] }`. A category's severity
 *   (0–7) is the highest of its `severityTerms` found in the text; `FourSeverityLevels` (default) rounds it down
 *   to 0/2/4/6. `blocklists` name term lists; matches are reported in `blocklistsMatch`.
 * - Auth: `Ocp-Apim-Subscription-Key` (one of `keys`, default `['test-key']`) or `Authorization: Bearer` (one of
 *   `bearerTokens`, default any) → else 401 with the Cognitive Services body. Text over 10 000 characters and
 *   malformed bodies → 400 `InvalidRequestBody`; unsupported api-version → 400 `UnsupportedApiVersion`.
 * - Faults (`setBehaviour`), each for the next `count` requests (default all), in this order: `hang`, `rateLimit`
 *   (429 `TooManyRequests` with `Retry-After`), `fail` (status, default 500 `InternalError`). `latencyMs` delays
 *   every answer.
 *
 * From another process: `node --import tsx test/support/content-safety-server.ts [port]` prints `{"url": …}`;
 * `PUT /_control/behaviour`, `GET /_control/requests`.
 */

export const CONTENT_SAFETY_API_VERSIONS = {
  shieldPrompt: ['2024-09-01', '2024-02-15-preview'],
  analyze: ['2024-09-01', '2023-10-01'],
};

export type HarmCategory = 'Hate' | 'SelfHarm' | 'Sexual' | 'Violence';
export const HARM_CATEGORIES: HarmCategory[] = ['Hate', 'SelfHarm', 'Sexual', 'Violence'];

export const DEFAULT_ATTACK_PHRASES = [
  'ignore previous instructions',
  'ignore all previous instructions',
  'ignore all prior instructions',
  'ignore the above',
  'disregard previous instructions',
  'you are now',
  'system prompt',
  'developer mode',
];

/** Terms and the severity (0–7) they give their category; deliberately plain words so tests read clearly. */
export const DEFAULT_SEVERITY_TERMS: Record<HarmCategory, Record<string, number>> = {
  Hate: { despise: 2, vermin: 4, 'inferior race': 6 },
  SelfHarm: { 'hurt myself': 4, 'end my life': 6 },
  Sexual: { explicit: 2, nude: 4 },
  Violence: { punch: 2, stab: 4, kill: 5, massacre: 6 },
};

export interface ContentSafetyBehaviour {
  hang?: CountedFault;
  rateLimit?: CountedFault & { retryAfterSeconds?: number };
  fail?: CountedFault & { status?: number };
  latencyMs?: number;
}

export interface ContentSafetyServerOptions {
  port?: number;
  keys?: string[];
  bearerTokens?: string[];
  /** Replaces `DEFAULT_ATTACK_PHRASES`. */
  attackPhrases?: string[];
  /** Replaces `DEFAULT_SEVERITY_TERMS` (a category left out has no terms, so severity 0). */
  severityTerms?: Partial<Record<HarmCategory, Record<string, number>>>;
  /** Blocklists by name: their terms are matched case-insensitively. */
  blocklists?: Record<string, string[]>;
  behaviour?: ContentSafetyBehaviour;
}

export interface ShieldPromptResult {
  userPromptAnalysis: { attackDetected: boolean };
  documentsAnalysis: { attackDetected: boolean }[];
}

export interface AnalyzeTextResult {
  blocklistsMatch: { blocklistName: string; blocklistItemId: string; blocklistItemText: string }[];
  categoriesAnalysis: { category: HarmCategory; severity: number }[];
}

export interface ContentSafetyServer {
  url: string;
  port: number;
  requests: FixtureRequest[];
  setBehaviour(behaviour: ContentSafetyBehaviour): void;
  waitForRequest(
    predicate: (request: FixtureRequest) => boolean,
    options?: WaitOptions,
  ): Promise<FixtureRequest[]>;
  close(): Promise<void>;
}

const MAX_TEXT = 10_000;

class InvalidBody extends Error {}

const UNAUTHORIZED = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
};

export async function startContentSafetyServer(
  options: ContentSafetyServerOptions = {},
): Promise<ContentSafetyServer> {
  const keys = new Set(options.keys ?? ['test-key']);
  const attackPhrases = (options.attackPhrases ?? DEFAULT_ATTACK_PHRASES).map((p) => p.toLowerCase());
  const severityTerms = options.severityTerms ?? DEFAULT_SEVERITY_TERMS;
  const log = new RequestLog();
  let behaviour = options.behaviour ?? {};
  let faults = new FaultCounter();

  const authorized = (req: IncomingMessage): boolean => {
    const key = header(req.headers, 'ocp-apim-subscription-key');
    if (key !== undefined) return keys.has(key);
    const token = bearerToken(req.headers);
    return token !== undefined && (!options.bearerTokens || options.bearerTokens.includes(token));
  };

  const attacked = (text: string): boolean => {
    const lower = text.toLowerCase();
    return attackPhrases.some((p) => lower.includes(p));
  };

  function shieldPrompt(body: Record<string, unknown>): ShieldPromptResult {
    const { userPrompt, documents } = body;
    if (userPrompt !== undefined && typeof userPrompt !== 'string') {
      throw new InvalidBody('userPrompt must be a string.');
    }
    if (
      documents !== undefined &&
      !(Array.isArray(documents) && documents.every((d) => typeof d === 'string'))
    ) {
      throw new InvalidBody('documents must be an array of strings.');
    }
    const docs = (documents ?? []) as string[];
    if (userPrompt === undefined && docs.length === 0) {
      throw new InvalidBody('At least one of userPrompt or documents is required.');
    }
    if ((userPrompt ?? '').length > MAX_TEXT || docs.join('').length > MAX_TEXT) {
      throw new InvalidBody(`The text exceeds the limit of ${MAX_TEXT} characters.`);
    }
    return {
      userPromptAnalysis: { attackDetected: attacked(userPrompt ?? '') },
      documentsAnalysis: docs.map((d) => ({ attackDetected: attacked(d) })),
    };
  }

  function analyze(body: Record<string, unknown>): AnalyzeTextResult {
    const { text, categories, outputType, blocklistNames, haltOnBlocklistHit } = body;
    if (typeof text !== 'string' || text.length === 0) throw new InvalidBody('text is required.');
    if (text.length > MAX_TEXT)
      throw new InvalidBody(`The text exceeds the limit of ${MAX_TEXT} characters.`);
    if (
      categories !== undefined &&
      !(Array.isArray(categories) && categories.every((c) => HARM_CATEGORIES.includes(c as HarmCategory)))
    ) {
      throw new InvalidBody(`categories must be a subset of ${HARM_CATEGORIES.join(', ')}.`);
    }
    if (
      outputType !== undefined &&
      outputType !== 'FourSeverityLevels' &&
      outputType !== 'EightSeverityLevels'
    ) {
      throw new InvalidBody('outputType must be FourSeverityLevels or EightSeverityLevels.');
    }
    const names = blocklistNames ?? [];
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new InvalidBody('blocklistNames must be an array of strings.');
    }
    const lower = text.toLowerCase();
    const blocklistsMatch: AnalyzeTextResult['blocklistsMatch'] = [];
    for (const name of names as string[]) {
      const terms = options.blocklists?.[name];
      if (!terms) throw new InvalidBody(`Blocklist '${name}' does not exist.`, { cause: 'ResourceNotFound' });
      terms.forEach((term, i) => {
        if (lower.includes(term.toLowerCase())) {
          blocklistsMatch.push({
            blocklistName: name,
            blocklistItemId: `${name}-${i + 1}`,
            blocklistItemText: term,
          });
        }
      });
    }
    if (haltOnBlocklistHit === true && blocklistsMatch.length > 0)
      return { blocklistsMatch, categoriesAnalysis: [] };
    const eight = outputType === 'EightSeverityLevels';
    const categoriesAnalysis = ((categories as HarmCategory[] | undefined) ?? HARM_CATEGORIES).map(
      (category) => {
        const found = Object.entries(severityTerms[category] ?? {})
          .filter(([term]) => lower.includes(term.toLowerCase()))
          .map(([, severity]) => Math.min(7, Math.max(0, severity)));
        const severity = Math.max(0, ...found);
        return { category, severity: eight ? severity : severity - (severity % 2) };
      },
    );
    return { blocklistsMatch, categoriesAnalysis };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const controlled = await handleControl(req, res, url, {
      setBehaviour: (next: ContentSafetyBehaviour) => {
        behaviour = next;
        faults = new FaultCounter();
      },
      requests: () => log.items,
    });
    if (controlled) return;
    const record = log.start(req, res, url, {});
    await readInto(req, record);

    const operation =
      req.method === 'POST' && url.pathname === '/contentsafety/text:shieldPrompt'
        ? 'shieldPrompt'
        : req.method === 'POST' && url.pathname === '/contentsafety/text:analyze'
          ? 'analyze'
          : undefined;
    if (!operation)
      return sendJson(res, record, 404, { error: { code: '404', message: 'Resource not found' } });
    if (!authorized(req)) return sendJson(res, record, 401, UNAUTHORIZED);
    const version = record.query['api-version'];
    if (!version || !CONTENT_SAFETY_API_VERSIONS[operation].includes(version)) {
      return sendJson(res, record, 400, {
        error: {
          code: 'UnsupportedApiVersion',
          message: `The HTTP resource that matches the request URI '${url.pathname}' does not support the API version '${version ?? ''}'.`,
        },
      });
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
        {
          error: {
            code: 'TooManyRequests',
            message: 'Rate limit is exceeded. Try again in 1 seconds.',
          },
        },
        { 'retry-after': String(b.rateLimit?.retryAfterSeconds ?? 1) },
      );
    }
    if (counter.take('fail', b.fail)) {
      record.fault = 'fail';
      const status = b.fail?.status ?? 500;
      return sendJson(res, record, status, {
        error: {
          code: status >= 500 ? 'InternalError' : String(status),
          message:
            status >= 500 ? 'An internal error occurred. Please retry later.' : `Scripted failure ${status}.`,
        },
      });
    }

    try {
      const body = record.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new InvalidBody('The request body is not a JSON object.');
      }
      const fields = body as Record<string, unknown>;
      return sendJson(
        res,
        record,
        200,
        operation === 'shieldPrompt' ? shieldPrompt(fields) : analyze(fields),
      );
    } catch (err) {
      if (!(err instanceof InvalidBody)) throw err;
      const code = err.cause === 'ResourceNotFound' ? 'ResourceNotFound' : 'InvalidRequestBody';
      return sendJson(res, record, code === 'ResourceNotFound' ? 404 : 400, {
        error: { code, message: err.message, details: [], innererror: null },
      });
    }
  }

  const server: Server = createServer(guarded(handle));
  return listen(server, options.port ?? 0, (url, port) => ({
    url,
    port,
    requests: log.items,
    setBehaviour(next) {
      behaviour = next;
      faults = new FaultCounter();
    },
    waitForRequest: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
    close: () => closeServer(server),
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveFromCommandLine((port) => startContentSafetyServer({ port }));
}
