import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { AIProjectClientOptionalParams } from '@azure/ai-projects';
import { estimateTokens } from '../../src/core/tokens.js';
import {
  closeServer,
  contentFilterErrorBody,
  FaultPlan,
  failureBody,
  type JsonSchema,
  listen,
  minimalInstance,
  now,
  type RecordedRequest,
  rateLimitBody,
  readBody,
  recordRequest,
  type ServerBehaviour,
  sendJson,
  sleep,
  startSse,
} from './azure-openai-server.js';

/**
 * A local Azure AI Foundry project, speaking what `@azure/ai-projects` 2.2.0 requests to run an agent:
 *
 * - `GET  /api/projects/{project}/agents/{name}?api-version=v1` — the agent with its latest version
 *   (`AIProjectClient.agents.get`);
 * - `POST /api/projects/{project}/openai/v1/responses` — the OpenAI Responses protocol with
 *   `agent: { name, type: 'agent_reference' }` (`getOpenAIClient().responses.create`), JSON or SSE
 *   (`response.created` … `response.output_text.delta` … `response.completed`).
 *
 * Bearer tokens only (Entra ID), like the service. Refuses `tools`, `instructions`, `model` and sampling settings
 * next to an agent reference, like the service. Faults are scripted with the same `ServerBehaviour` as the Azure
 * OpenAI server (429, hang, 5xx, content filter, invalid JSON, tool calls).
 */

export interface FoundryAgentSpec {
  name: string;
  model?: string;
  instructions?: string;
  version?: string;
  /** Function tools defined on the agent (called when the behaviour says `toolCalls`). */
  tools?: { name: string; parameters?: JsonSchema }[];
  /** The agent's structured output schema (`text.format`): answers are minimal instances of it. */
  responseSchema?: JsonSchema;
}

export interface FoundryServerOptions {
  port?: number;
  /** Project name in the path (default `baton`). */
  project?: string;
  agents?: FoundryAgentSpec[];
  /** Accepted bearer tokens; default any non-empty token. */
  bearerTokens?: string[];
  behaviour?: ServerBehaviour;
}

export interface FoundryServer {
  url: string;
  /** `{url}/api/projects/{project}`: what AZURE_AI_PROJECT_ENDPOINT would be. */
  projectUrl: string;
  requests: RecordedRequest[];
  setBehaviour(behaviour: ServerBehaviour): void;
  close(): Promise<void>;
}

const FORBIDDEN_WITH_AGENT = [
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'instructions',
  'model',
  'temperature',
  'top_p',
];

interface ResponsesBody {
  input?: unknown;
  stream?: boolean;
  agent?: { name?: string; type?: string; version?: string };
  [key: string]: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  return input
    .map((item) => {
      if (!isObject(item)) return '';
      if (typeof item.content === 'string') return item.content;
      if (typeof item.output === 'string') return item.output;
      if (typeof item.arguments === 'string') return item.arguments;
      return '';
    })
    .join('\n');
}

function lastUserText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  for (let i = input.length - 1; i >= 0; i--) {
    const item: unknown = input[i];
    if (isObject(item) && item.role === 'user' && typeof item.content === 'string') return item.content;
  }
  return '';
}

function agentJson(spec: FoundryAgentSpec): unknown {
  const version = spec.version ?? '1';
  return {
    object: 'agent',
    id: `${spec.name}`,
    name: spec.name,
    versions: {
      latest: {
        metadata: {},
        object: 'agent.version',
        id: `${spec.name}:${version}`,
        name: spec.name,
        version,
        description: '',
        created_at: Math.floor(Date.now() / 1000),
        status: 'active',
        definition: {
          kind: 'prompt',
          model: spec.model ?? 'gpt-4o-mini',
          instructions: spec.instructions ?? '',
          ...(spec.tools
            ? {
                tools: spec.tools.map((t) => ({
                  type: 'function',
                  name: t.name,
                  parameters: t.parameters ?? {},
                })),
              }
            : {}),
          ...(spec.responseSchema
            ? {
                text: {
                  format: { type: 'json_schema', name: 'output', schema: spec.responseSchema, strict: false },
                },
              }
            : {}),
        },
      },
    },
  };
}

export async function startFoundryServer(options: FoundryServerOptions = {}): Promise<FoundryServer> {
  const project = options.project ?? 'baton';
  const agents = new Map((options.agents ?? [{ name: 'researcher' }]).map((a) => [a.name, a]));
  const requests: RecordedRequest[] = [];
  let plan = new FaultPlan(options.behaviour ?? {});
  const prefix = `/api/projects/${project}`;

  const bearer = (req: IncomingMessage): string | undefined => {
    const auth = req.headers.authorization;
    return (typeof auth === 'string' && /^Bearer\s+(.+)$/i.exec(auth)?.[1]) || undefined;
  };
  const authorized = (req: IncomingMessage) => {
    const token = bearer(req);
    return token !== undefined && (options.bearerTokens ? options.bearerTokens.includes(token) : true);
  };
  const unauthorized = {
    error: {
      code: 'PermissionDenied',
      message: 'The principal lacks the required data action or the token is invalid.',
    },
  };

  async function handleResponses(res: ServerResponse, record: RecordedRequest): Promise<void> {
    const body = record.body;
    if (!isObject(body)) {
      return sendJson(res, record, 400, {
        error: { code: 'invalid_payload', message: 'Body must be an object.' },
      });
    }
    const request = body as ResponsesBody;
    const agentRef = request.agent;
    if (agentRef?.type !== 'agent_reference' || typeof agentRef.name !== 'string') {
      return sendJson(res, record, 400, {
        error: { code: 'invalid_payload', message: 'An agent reference is required.', param: 'agent' },
      });
    }
    for (const key of FORBIDDEN_WITH_AGENT) {
      if (key in request) {
        return sendJson(res, record, 400, {
          error: {
            code: 'invalid_payload',
            message: 'Not allowed when agent is specified.',
            param: key,
            type: 'invalid_request_error',
          },
        });
      }
    }
    const agent = agents.get(agentRef.name);
    if (!agent) {
      return sendJson(res, record, 404, {
        error: { code: 'not_found', message: `Agent with name '${agentRef.name}' was not found.` },
      });
    }

    const current = plan;
    const fault = current.next();
    if (fault?.kind === 'hang') return;
    await sleep(current.behaviour.latencyMs ?? 0);
    if (fault?.kind === 'rate-limit')
      return sendJson(res, record, 429, rateLimitBody(), current.rateLimitHeaders());
    if (fault?.kind === 'fail') {
      const status = current.behaviour.fail?.status ?? 500;
      return sendJson(res, record, status, failureBody(status));
    }
    if (fault?.kind === 'content-filter') return sendJson(res, record, 400, contentFilterErrorBody());

    const model = agent.model ?? 'gpt-4o-mini';
    const id = `resp_${randomUUID().replace(/-/g, '')}`;
    const b = current.behaviour;
    const lastItem: unknown = Array.isArray(request.input)
      ? request.input[request.input.length - 1]
      : undefined;
    const afterToolResult = isObject(lastItem) && lastItem.type === 'function_call_output';
    const output: Record<string, unknown>[] = [];
    let text = '';
    let status: 'completed' | 'incomplete' = 'completed';
    let incomplete: { reason: string } | null = null;
    if (b.toolCalls && agent.tools?.length && !afterToolResult) {
      const tool = agent.tools[0]!;
      output.push({
        type: 'function_call',
        id: `fc_${randomUUID().replace(/-/g, '')}`,
        call_id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        name: tool.name,
        arguments: JSON.stringify(minimalInstance(tool.parameters ?? {})),
        status: 'completed',
      });
    } else if (b.contentFilter === 'completion') {
      status = 'incomplete';
      incomplete = { reason: 'content_filter' };
    } else {
      if (agent.responseSchema) {
        const broken = current.nextStructured();
        const value = JSON.stringify(minimalInstance(agent.responseSchema));
        text =
          broken === 'syntax'
            ? `Here you go: ${value.slice(0, -1)}`
            : broken === 'shape'
              ? '{"unexpected":true}'
              : value;
      } else {
        text =
          typeof b.reply === 'string'
            ? b.reply
            : `${agent.name}: ${lastUserText(request.input).slice(0, 200)}`;
      }
      output.push({
        type: 'message',
        id: `msg_${randomUUID().replace(/-/g, '')}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
      });
    }
    const inputTokens = estimateTokens(inputText(request.input));
    const outputTokens = text ? estimateTokens(text) : output.length > 0 ? 8 : 0;
    record.usage = { inputTokens, outputTokens };
    const response = {
      id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status,
      error: null,
      incomplete_details: incomplete,
      instructions: agent.instructions ?? null,
      model,
      output,
      parallel_tool_calls: true,
      temperature: 1,
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      agent: { type: 'agent_id', name: agent.name, version: agent.version ?? '1' },
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
      metadata: {},
    };
    if (!request.stream) return sendJson(res, record, 200, response);

    startSse(res, record);
    let sequence = 0;
    const delay = b.chunkDelayMs ?? 0;
    const send = async (type: string, data: Record<string, unknown>) => {
      if (res.destroyed) return;
      res.write(
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
      );
      await sleep(delay);
    };
    const inProgress = { ...response, status: 'in_progress', output: [], usage: null };
    await send('response.created', { response: inProgress });
    await send('response.in_progress', { response: inProgress });
    for (const [index, item] of output.entries()) {
      await send('response.output_item.added', { output_index: index, item: { ...item, content: [] } });
      if (item.type === 'message') {
        const part = { type: 'output_text', text: '', annotations: [] };
        await send('response.content_part.added', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          part,
        });
        for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
          await send('response.output_text.delta', {
            item_id: item.id,
            output_index: index,
            content_index: 0,
            delta: piece,
            logprobs: [],
          });
        }
        await send('response.output_text.done', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          text,
          logprobs: [],
        });
      }
      await send('response.output_item.done', { output_index: index, item });
    }
    await send(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
    if (res.destroyed) return;
    res.end(() => {
      record.respondedAt = now();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_control/behaviour' && req.method === 'PUT') {
      const raw = await readBody(req);
      plan = new FaultPlan(raw ? (JSON.parse(raw) as ServerBehaviour) : {});
      res.end('{}');
      return;
    }
    if (url.pathname === '/_control/requests') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(requests));
      return;
    }
    const record = recordRequest(req, res, url, requests);
    const raw = await readBody(req);
    if (raw) {
      try {
        record.body = JSON.parse(raw);
      } catch {
        record.body = raw;
      }
    }
    if (!authorized(req)) return sendJson(res, record, 401, unauthorized);
    const agentPath = new RegExp(`^${prefix}/agents/([^/]+)$`).exec(url.pathname);
    if (req.method === 'GET' && agentPath) {
      if (!record.query['api-version']) {
        return sendJson(res, record, 400, {
          error: { code: 'BadRequest', message: 'api-version is required.' },
        });
      }
      const agent = agents.get(decodeURIComponent(agentPath[1] ?? ''));
      if (!agent) {
        return sendJson(res, record, 404, {
          error: {
            code: 'NotFound',
            message: `Agent '${agentPath[1]}' was not found in project '${project}'.`,
          },
        });
      }
      return sendJson(res, record, 200, agentJson(agent));
    }
    if (req.method === 'POST' && url.pathname === `${prefix}/openai/v1/responses`) {
      return handleResponses(res, record);
    }
    return sendJson(res, record, 404, { error: { code: 'NotFound', message: 'Resource not found' } });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(err) } }));
    });
  });
  return listen(server, options.port ?? 0, (url) => ({
    url,
    projectUrl: `${url}${prefix}`,
    requests,
    setBehaviour(behaviour) {
      plan = new FaultPlan(behaviour);
    },
    close: () => closeServer(server),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// An Azure core HttpClient that sends the project client's https requests to the local http server.

type HttpClient = NonNullable<AIProjectClientOptionalParams['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;
type HttpHeaders = PipelineResponse['headers'];

class SimpleHeaders implements HttpHeaders {
  private readonly map = new Map<string, { name: string; value: string }>();
  constructor(entries: Iterable<[string, string]> = []) {
    for (const [name, value] of entries) this.set(name, value);
  }
  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase())?.value;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean): void {
    this.map.set(name.toLowerCase(), { name, value: String(value) });
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  toJSON(options?: { preserveCase?: boolean }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, { name, value }] of this.map) out[options?.preserveCase ? name : key] = value;
    return out;
  }
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [key, { value }] of this.map) yield [key, value];
  }
}

/**
 * Azure core refuses bearer tokens over plain http, so the project client is given an https endpoint and this
 * client, which sends each request to `target` (the local server) instead, keeping path and query.
 */
export function localHttpClient(target: string): HttpClient & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      urls.push(request.url);
      const original = new URL(request.url);
      const url = new URL(`${original.pathname}${original.search}`, target);
      const body = request.body;
      if (body !== undefined && body !== null && typeof body !== 'string') {
        throw new Error('localHttpClient only sends string bodies');
      }
      const response = await fetch(url, {
        method: request.method,
        headers: request.headers.toJSON(),
        ...(body ? { body } : {}),
        ...(request.abortSignal ? { signal: request.abortSignal as AbortSignal } : {}),
      });
      const headers = new SimpleHeaders();
      response.headers.forEach((value, name) => {
        headers.set(name, value);
      });
      return {
        request,
        status: response.status,
        headers,
        bodyAsText: await response.text(),
      };
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startFoundryServer({ port: Number(process.argv[2] ?? 0) }).then((server) => {
    process.stdout.write(`${JSON.stringify({ url: server.url, projectUrl: server.projectUrl })}\n`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
