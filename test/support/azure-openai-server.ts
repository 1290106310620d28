import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * A local Azure OpenAI: the real REST protocol over plain `node:http`, with the faults tests need.
 *
 * - `POST /openai/deployments/{deployment}/chat/completions?api-version=…` (`api-key` header or
 *   `Authorization: Bearer`), and `POST /openai/v1/chat/completions` (the v1 / OpenAI-compatible surface,
 *   `Authorization: Bearer`; `model` in the body names the deployment).
 * - Answers `chat.completion` JSON with usage and Azure's `prompt_filter_results` / `content_filter_results`, or a
 *   `chat.completion.chunk` SSE stream ending in `data: [DONE]` (with a usage chunk when
 *   `stream_options.include_usage`).
 * - Structured outputs are answered with a minimal instance of the requested JSON Schema; tools are called when
 *   the behaviour says so.
 * - Scriptable faults: 429 with retry-after for the first N requests, hangs (recording whether the client closed
 *   the socket), sustained 5xx, content-filter refusals, invalid JSON answers.
 * - Every request is recorded (path, query, headers, body, timestamps).
 *
 * Another process can start one with `node --import tsx test/support/azure-openai-server.ts [port]` (it prints
 * `{"url": …}`) and script it over HTTP: `PUT /_control/behaviour` (JSON body), `GET /_control/requests`.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Epoch milliseconds (fractional) when the request arrived. */
  receivedAt: number;
  /** When the answer was completely written. */
  respondedAt?: number;
  /** When the connection or response closed (either side). */
  closedAt?: number;
  /** True when the client closed the request before the answer was complete (abort, timeout). */
  clientClosed: boolean;
  status?: number;
  /** The token usage of the model answer (a stream dropped mid-answer never delivers it). */
  usage?: { inputTokens: number; outputTokens: number };
}

export interface ServerBehaviour {
  /** Text of plain answers; default `ok: <last user message>`. */
  reply?: string | ((body: ChatBody) => string);
  /** The value of structured answers (json_schema); default a minimal instance of the schema. */
  structured?: (body: ChatBody, schema: JsonSchema) => unknown;
  /** The first `count` requests get 429 with these headers (all present ones are sent). */
  rateLimit?: { count: number; retryAfterSeconds?: number; retryAfterMs?: number; retryAfterDate?: string };
  /** The first `count` requests (default: all) are never answered. */
  hang?: { count?: number };
  /** The first `count` requests (default: all) fail with `status`. */
  fail?: { status: number; count?: number };
  /** `prompt`: 400 content_filter refusal; `completion`: the answer ends with finish_reason `content_filter`. */
  contentFilter?: 'prompt' | 'completion';
  /** The first `count` structured answers are broken: not JSON (`syntax`, default) or JSON of the wrong shape. */
  invalidJson?: { count: number; kind?: 'syntax' | 'shape' };
  /** When tools are offered and the last message is not a tool result: call them (default the first offered). */
  toolCalls?: boolean | { names?: string[] };
  /** Wait before answering (ms). */
  latencyMs?: number;
  /** Wait between streamed chunks (ms). */
  chunkDelayMs?: number;
  /** Streams: destroy the connection after this many text chunks (a reset mid-answer). */
  dropStreamAfterChunks?: number;
}

export interface AzureOpenAIServerOptions {
  port?: number;
  /** Known deployments; others get 404 DeploymentNotFound. Default `['gpt-4o-mini']`. */
  deployments?: string[];
  /** Model name reported for a deployment (default: the deployment name). */
  models?: Record<string, string>;
  /** Accepted `api-key` values (also accepted as bearer on the v1 surface). Default `['test-key']`. */
  apiKeys?: string[];
  /** Accepted Entra ID bearer tokens; default any non-empty token. */
  bearerTokens?: string[];
  /** The v1 surface accepts requests without credentials (like Ollama or vLLM). */
  allowAnonymous?: boolean;
  behaviour?: ServerBehaviour;
}

export interface AzureOpenAIServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Replaces the behaviour and restarts its counters ("the first N requests" count from here). */
  setBehaviour(behaviour: ServerBehaviour): void;
  close(): Promise<void>;
}

export interface ChatBody {
  model?: string;
  messages: { role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: string; function: { name: string; description?: string; parameters?: JsonSchema } }[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  response_format?: { type: string; json_schema?: { name?: string; schema?: JsonSchema; strict?: boolean } };
  max_tokens?: number;
  max_completion_tokens?: number;
}

export type JsonSchema = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers (also used by the Foundry server)

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The smallest value satisfying a JSON Schema (the subset structured outputs use). */
export function minimalInstance(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isObject(schema) || depth > 32) return null;
  if (typeof schema.$ref === 'string') {
    const path = schema.$ref.replace(/^#\/?/, '').split('/').filter(Boolean);
    let target: unknown = root;
    for (const part of path) target = isObject(target) ? target[part] : undefined;
    return minimalInstance(target, root, depth + 1);
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.find((o) => !(isObject(o) && o.type === 'null')) ?? options[0];
      return minimalInstance(nonNull, root, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged: Record<string, unknown> = {};
    for (const part of schema.allOf) {
      const value = minimalInstance(part, root, depth + 1);
      if (isObject(value)) Object.assign(merged, value);
    }
    return merged;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type =
    types.find((t) => t !== 'null') ?? types[0] ?? (isObject(schema.properties) ? 'object' : undefined);
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = isObject(schema.properties) ? schema.properties : {};
      for (const [key, sub] of Object.entries(properties)) out[key] = minimalInstance(sub, root, depth + 1);
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length: min }, () => minimalInstance(schema.items, root, depth + 1));
    }
    case 'string': {
      const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
      if (schema.format === 'date-time') return '2024-01-01T00:00:00Z';
      if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
      if (schema.format === 'email') return 'a@example.com';
      return 'x'.repeat(Math.max(1, min));
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
      const exclusive = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : undefined;
      return exclusive ?? min ?? 0;
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return null;
  }
}

/** Why OpenAI strict mode would refuse `schema`, or undefined. */
export function strictSchemaProblem(schema: unknown, path = '()'): string | undefined {
  if (!isObject(schema)) return undefined;
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  if (schema.type === 'object' || properties) {
    if (schema.additionalProperties !== false) {
      return `In context=${path}, 'additionalProperties' is required to be supplied and to be false.`;
    }
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = Object.keys(properties ?? {}).filter((k) => !required.includes(k));
    if (missing.length > 0) {
      return `In context=${path}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    }
    for (const [key, sub] of Object.entries(properties ?? {})) {
      const problem = strictSchemaProblem(sub, `${path}, 'properties', '${key}'`);
      if (problem) return problem;
    }
  }
  if (schema.items !== undefined) return strictSchemaProblem(schema.items, `${path}, 'items'`);
  return undefined;
}

const SAFE_FILTER = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};
export const PROMPT_FILTER_RESULTS = [
  {
    prompt_index: 0,
    content_filter_results: { ...SAFE_FILTER, jailbreak: { filtered: false, detected: false } },
  },
];
export const VIOLENCE_FILTERED = { ...SAFE_FILTER, violence: { filtered: true, severity: 'high' } };

export function contentFilterErrorBody(): unknown {
  return {
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: {
        code: 'ResponsibleAIPolicyViolation',
        content_filter_result: { ...VIOLENCE_FILTERED, jailbreak: { filtered: false, detected: false } },
      },
    },
  };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  record: RecordedRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  record.status = status;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': randomUUID(),
    ...headers,
  });
  res.end(text, () => {
    record.respondedAt = now();
  });
}

export function startSse(res: ServerResponse, record: RecordedRequest): void {
  record.status = 200;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-request-id': randomUUID(),
  });
}

/** Records the request and its close: `clientClosed` when the socket went away before the answer was complete. */
export function recordRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requests: RecordedRequest[],
): RecordedRequest {
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: undefined,
    receivedAt: now(),
    clientClosed: false,
  };
  requests.push(record);
  res.on('close', () => {
    record.closedAt = now();
    if (!res.writableFinished) record.clientClosed = true;
  });
  return record;
}

/** The fault counters of one behaviour: "the first N requests" are counted from `setBehaviour`. */
export class FaultPlan {
  private served = 0;
  private structured = 0;
  constructor(readonly behaviour: ServerBehaviour) {}

  /** Counts one model request and says which fault, if any, applies to it. */
  next(): { kind: 'rate-limit' | 'hang' | 'fail' | 'content-filter' } | undefined {
    const index = this.served++;
    const b = this.behaviour;
    if (b.rateLimit && index < b.rateLimit.count) return { kind: 'rate-limit' };
    if (b.hang && index < (b.hang.count ?? Number.POSITIVE_INFINITY)) return { kind: 'hang' };
    if (b.fail && index < (b.fail.count ?? Number.POSITIVE_INFINITY)) return { kind: 'fail' };
    if (b.contentFilter === 'prompt') return { kind: 'content-filter' };
    return undefined;
  }

  /** Whether this structured answer should be broken, and how. */
  nextStructured(): 'syntax' | 'shape' | undefined {
    const index = this.structured++;
    const spec = this.behaviour.invalidJson;
    return spec && index < spec.count ? (spec.kind ?? 'syntax') : undefined;
  }

  rateLimitHeaders(): Record<string, string> {
    const spec = this.behaviour.rateLimit;
    const headers: Record<string, string> = { 'x-ratelimit-remaining-requests': '0' };
    if (spec?.retryAfterMs !== undefined) headers['retry-after-ms'] = String(spec.retryAfterMs);
    if (spec?.retryAfterSeconds !== undefined) headers['retry-after'] = String(spec.retryAfterSeconds);
    if (spec?.retryAfterDate !== undefined) headers['retry-after'] = spec.retryAfterDate;
    return headers;
  }
}

export function failureBody(status: number): unknown {
  if (status >= 500) {
    return {
      error: {
        code: 'InternalServerError',
        message: 'The server had an error while processing your request. Sorry about that!',
      },
    };
  }
  return { error: { code: String(status), message: `Scripted failure with status ${status}.` } };
}

export function rateLimitBody(): unknown {
  return {
    error: {
      code: '429',
      message:
        'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.',
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The server

const UNAUTHORIZED = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
};
const DEPLOYMENT_NOT_FOUND = {
  error: {
    code: 'DeploymentNotFound',
    message:
      'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
  },
};

function invalidRequest(message: string, param: string | null = null): unknown {
  return { error: { message, type: 'invalid_request_error', param, code: null } };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return '';
}

interface Answer {
  content: string | null;
  toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  finishReason: 'stop' | 'tool_calls' | 'content_filter';
}

function answerFor(body: ChatBody, plan: FaultPlan): Answer {
  const b = plan.behaviour;
  const last = body.messages[body.messages.length - 1];
  const tools = body.tools ?? [];
  if (tools.length > 0 && b.toolCalls && last?.role !== 'tool' && body.tool_choice !== 'none') {
    const wanted =
      typeof b.toolCalls === 'object' && b.toolCalls.names ? b.toolCalls.names : [tools[0]?.function.name];
    let chosen = tools.filter((t) => wanted.includes(t.function.name));
    if (body.parallel_tool_calls === false) chosen = chosen.slice(0, 1);
    return {
      content: null,
      toolCalls: chosen.map((t) => ({
        id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        type: 'function' as const,
        function: {
          name: t.function.name,
          arguments: JSON.stringify(minimalInstance(t.function.parameters ?? {})),
        },
      })),
      finishReason: 'tool_calls',
    };
  }
  if (b.contentFilter === 'completion') return { content: '', toolCalls: [], finishReason: 'content_filter' };
  const schema =
    body.response_format?.type === 'json_schema' ? body.response_format.json_schema?.schema : undefined;
  if (schema) {
    const broken = plan.nextStructured();
    const value = b.structured ? b.structured(body, schema) : minimalInstance(schema);
    const content =
      broken === 'syntax'
        ? `Sure! Here it is: ${JSON.stringify(value).slice(0, -1)}`
        : broken === 'shape'
          ? JSON.stringify({ unexpected: true })
          : JSON.stringify(value);
    return { content, toolCalls: [], finishReason: 'stop' };
  }
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
  const reply =
    typeof b.reply === 'function'
      ? b.reply(body)
      : (b.reply ?? `ok: ${textOf(lastUser?.content).slice(0, 200)}`);
  return { content: reply, toolCalls: [], finishReason: 'stop' };
}

function validateBody(body: unknown): { body: ChatBody } | { error: unknown } {
  if (!isObject(body) || !Array.isArray(body.messages) || body.messages.length === 0) {
    return {
      error: invalidRequest("'messages' is a required property and must be a non-empty array.", 'messages'),
    };
  }
  const chat = body as unknown as ChatBody;
  if (chat.parallel_tool_calls !== undefined && !(chat.tools && chat.tools.length > 0)) {
    return {
      error: invalidRequest(
        "Invalid value for 'parallel_tool_calls': only allowed when 'tools' are specified.",
      ),
    };
  }
  if (chat.tool_choice !== undefined && !(chat.tools && chat.tools.length > 0)) {
    return {
      error: invalidRequest("Invalid value for 'tool_choice': only allowed when 'tools' are specified."),
    };
  }
  if (chat.max_tokens !== undefined && chat.max_completion_tokens !== undefined) {
    return { error: invalidRequest('max_tokens and max_completion_tokens are mutually exclusive.') };
  }
  const format = chat.response_format;
  if (format?.type === 'json_schema') {
    const spec = format.json_schema;
    if (!spec?.name || !isObject(spec.schema)) {
      return { error: invalidRequest("Missing required parameter: 'response_format.json_schema.name'.") };
    }
    if (spec.strict === true) {
      const problem = strictSchemaProblem(spec.schema);
      if (problem) {
        return {
          error: invalidRequest(
            `Invalid schema for response_format '${spec.name}': ${problem}`,
            'response_format',
          ),
        };
      }
    }
  }
  return { body: chat };
}

export async function startAzureOpenAIServer(
  options: AzureOpenAIServerOptions = {},
): Promise<AzureOpenAIServer> {
  const deployments = new Set(options.deployments ?? ['gpt-4o-mini']);
  const apiKeys = new Set(options.apiKeys ?? ['test-key']);
  const requests: RecordedRequest[] = [];
  let plan = new FaultPlan(options.behaviour ?? {});

  const authorized = (headers: IncomingHttpHeaders, v1: boolean): boolean => {
    const key = headers['api-key'];
    if (typeof key === 'string' && apiKeys.has(key)) return true;
    const auth = headers.authorization;
    const bearer = typeof auth === 'string' && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
    if (bearer) {
      if (v1 && apiKeys.has(bearer)) return true;
      return options.bearerTokens ? options.bearerTokens.includes(bearer) : true;
    }
    return v1 && options.allowAnonymous === true && key === undefined && auth === undefined;
  };

  async function handleChat(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    deployment: string | undefined,
    v1: boolean,
  ): Promise<void> {
    const raw = await readBody(req);
    try {
      record.body = raw ? JSON.parse(raw) : undefined;
    } catch {
      record.body = raw;
      return sendJson(res, record, 400, invalidRequest('We could not parse the JSON body of your request.'));
    }
    if (!authorized(req.headers, v1)) return sendJson(res, record, 401, UNAUTHORIZED);
    if (!v1 && !record.query['api-version']) {
      return sendJson(res, record, 400, {
        error: {
          code: 'BadRequest',
          message: 'The api-version query parameter (?api-version=) is required.',
        },
      });
    }
    const checked = validateBody(record.body);
    if ('error' in checked) return sendJson(res, record, 400, checked.error);
    const body = checked.body;
    const target = v1 ? body.model : deployment;
    if (!target || !deployments.has(target)) return sendJson(res, record, 404, DEPLOYMENT_NOT_FOUND);

    const current = plan;
    const fault = current.next();
    if (fault?.kind === 'hang') return; // never answered; `record.clientClosed` tells whether the client gave up
    await sleep(current.behaviour.latencyMs ?? 0);
    if (fault?.kind === 'rate-limit') {
      return sendJson(res, record, 429, rateLimitBody(), current.rateLimitHeaders());
    }
    if (fault?.kind === 'fail') {
      const status = current.behaviour.fail?.status ?? 500;
      return sendJson(res, record, status, failureBody(status));
    }
    if (fault?.kind === 'content-filter') return sendJson(res, record, 400, contentFilterErrorBody());

    const answer = answerFor(body, current);
    const model = options.models?.[target] ?? target;
    const promptTokens = estimateTokens(body.messages.map((m) => textOf(m.content)).join('\n'));
    const completionTokens =
      answer.content !== null && answer.content !== ''
        ? estimateTokens(answer.content)
        : answer.toolCalls.length > 0
          ? estimateTokens(answer.toolCalls.map((c) => c.function.arguments).join(''))
          : 0;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    record.usage = { inputTokens: promptTokens, outputTokens: completionTokens };
    const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const choiceFilter = answer.finishReason === 'content_filter' ? VIOLENCE_FILTERED : SAFE_FILTER;

    if (!body.stream) {
      return sendJson(res, record, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_local',
        prompt_filter_results: PROMPT_FILTER_RESULTS,
        choices: [
          {
            index: 0,
            finish_reason: answer.finishReason,
            logprobs: null,
            content_filter_results: choiceFilter,
            message: {
              role: 'assistant',
              content: answer.content,
              refusal: null,
              ...(answer.toolCalls.length > 0 ? { tool_calls: answer.toolCalls } : {}),
            },
          },
        ],
        usage,
      });
    }

    startSse(res, record);
    const includeUsage = body.stream_options?.include_usage === true;
    const delay = current.behaviour.chunkDelayMs ?? 0;
    const send = async (data: unknown) => {
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(data)}\n\n`);
      await sleep(delay);
    };
    const chunk = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_local',
      choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [],
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
    // Azure sends the prompt's filter results first, in a chunk without choices or model.
    await send({
      id: '',
      object: '',
      created: 0,
      model: '',
      choices: [],
      prompt_filter_results: PROMPT_FILTER_RESULTS,
    });
    await send(
      chunk({ delta: { role: 'assistant', content: '', refusal: null }, content_filter_results: {} }),
    );
    const pieces = (answer.content ?? '').match(/\S+\s*|\s+/g) ?? [];
    for (const [index, piece] of pieces.entries()) {
      if (index === current.behaviour.dropStreamAfterChunks) {
        res.destroy();
        return;
      }
      await send(chunk({ delta: { content: piece }, content_filter_results: SAFE_FILTER }));
    }
    for (const [index, call] of answer.toolCalls.entries()) {
      await send(
        chunk({
          delta: {
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
            ],
          },
        }),
      );
      const args = call.function.arguments;
      const half = Math.ceil(args.length / 2);
      for (const part of [args.slice(0, half), args.slice(half)].filter(Boolean)) {
        await send(chunk({ delta: { tool_calls: [{ index, function: { arguments: part } }] } }));
      }
    }
    await send(
      chunk({ delta: {}, finish_reason: answer.finishReason, content_filter_results: choiceFilter }),
    );
    if (includeUsage) await send(chunk(undefined, { usage }));
    if (res.destroyed) return;
    res.end('data: [DONE]\n\n', () => {
      record.respondedAt = now();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/_control/')) return control(req, res, url);
    const record = recordRequest(req, res, url, requests);
    const deploymentPath = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    if (req.method === 'POST' && deploymentPath) {
      return handleChat(req, res, record, decodeURIComponent(deploymentPath[1] ?? ''), false);
    }
    if (req.method === 'POST' && url.pathname === '/openai/v1/chat/completions') {
      return handleChat(req, res, record, undefined, true);
    }
    await readBody(req);
    return sendJson(res, record, 404, { error: { code: '404', message: 'Resource not found' } });
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = await readBody(req);
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/_control/behaviour' && req.method === 'PUT') {
      plan = new FaultPlan(raw ? (JSON.parse(raw) as ServerBehaviour) : {});
      res.end('{}');
      return;
    }
    if (url.pathname === '/_control/requests' && req.method === 'GET') {
      res.end(JSON.stringify(requests));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(err) } }));
    });
  });
  return listen(server, options.port ?? 0, (url, port) => ({
    url,
    port,
    requests,
    setBehaviour(behaviour) {
      plan = new FaultPlan(behaviour);
    },
    close: () => closeServer(server),
  }));
}

export function listen<T>(server: Server, port: number, make: (url: string, port: number) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      resolve(make(`http://127.0.0.1:${address.port}`, address.port));
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 0);
  startAzureOpenAIServer({ port, deployments: (process.env.DEPLOYMENTS ?? 'gpt-4o-mini').split(',') }).then(
    (server) => {
      process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
  );
}
