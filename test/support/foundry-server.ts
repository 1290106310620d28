import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type {
  AgentVersion,
  AIProjectClientOptionalParams,
  FunctionTool,
  PromptAgentDefinition,
} from '@azure/ai-projects';
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
 * A local Azure AI Foundry project, speaking what `@azure/ai-projects` 2.2.0 requests to define and run agents:
 *
 * - `GET  /api/projects/{project}/agents/{name}?api-version=v1` — the agent with its latest version
 *   (`AIProjectClient.agents.get`);
 * - `POST /api/projects/{project}/agents/{name}/versions?api-version=v1` — a new, immutable version from
 *   `{ definition, description?, metadata? }` (`agents.createVersion`), the agent created with its first one;
 *   validated as the service does (a prompt definition needs a model; a function tool a name and parameters —
 *   the Chat Completions tool shape arrives as a bare `{ type: 'function' }` and is refused; a `json_schema` text
 *   format a name and a schema; at most 16 metadata entries);
 * - `GET  /api/projects/{project}/agents/{name}/versions[/{version}]?api-version=v1` — the versions, newest first
 *   (`agents.listVersions`), or one (`agents.getVersion`);
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
  /** The versions of an agent as stored (wire form), oldest first. */
  versions(agent: string): StoredVersion[];
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

/** An agent version as the service stores and returns it (`AgentVersion`, with `created_at` in seconds). */
export type StoredVersion = Omit<AgentVersion, 'created_at' | 'definition'> & {
  created_at: number;
  definition: PromptAgentDefinition;
};

/** The first version of an agent given to the server at start. */
function seededVersion(spec: FoundryAgentSpec): StoredVersion {
  const version = spec.version ?? '1';
  return {
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
            tools: spec.tools.map(
              (t): FunctionTool => ({
                type: 'function',
                name: t.name,
                parameters: t.parameters ?? {},
                strict: false,
              }),
            ),
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
  };
}

/** How the Responses endpoint plays an agent: from its latest version's definition. */
function runtimeSpec(version: StoredVersion): FoundryAgentSpec {
  const d = version.definition;
  const format = d.text?.format;
  const tools = (d.tools ?? []).filter((t): t is FunctionTool => t.type === 'function');
  return {
    name: version.name,
    model: d.model,
    version: version.version,
    ...(d.instructions !== undefined ? { instructions: d.instructions } : {}),
    ...(tools.length > 0 ? { tools: tools.map((t) => ({ name: t.name, parameters: t.parameters })) } : {}),
    ...(format?.type === 'json_schema' ? { responseSchema: (format as { schema: JsonSchema }).schema } : {}),
  };
}

const AGENT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What the service says about a `createVersion` body it will not store, or `undefined` when it is valid. */
function invalidVersionBody(body: unknown): { message: string; param: string } | undefined {
  if (!isObject(body)) return { message: 'Body must be an object.', param: 'body' };
  const { definition, metadata, description } = body;
  if (!isObject(definition)) return { message: 'definition is required.', param: 'definition' };
  if (definition.kind !== 'prompt') {
    return { message: `Unsupported agent kind '${String(definition.kind)}'.`, param: 'definition.kind' };
  }
  if (typeof definition.model !== 'string' || definition.model === '') {
    return { message: 'A prompt agent needs a model deployment.', param: 'definition.model' };
  }
  if (definition.instructions !== undefined && typeof definition.instructions !== 'string') {
    return { message: 'instructions must be a string.', param: 'definition.instructions' };
  }
  if (definition.tools !== undefined && !Array.isArray(definition.tools)) {
    return { message: 'tools must be an array.', param: 'definition.tools' };
  }
  for (const [i, tool] of ((definition.tools as unknown[]) ?? []).entries()) {
    if (!isObject(tool) || typeof tool.type !== 'string') {
      return { message: 'Each tool needs a type.', param: `definition.tools[${i}].type` };
    }
    if (tool.type !== 'function') continue;
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) {
      return {
        message: "Missing required parameter: 'tools[0].name'.".replace('0', String(i)),
        param: `definition.tools[${i}].name`,
      };
    }
    if (!isObject(tool.parameters)) {
      return {
        message: 'A function tool needs a parameters schema.',
        param: `definition.tools[${i}].parameters`,
      };
    }
  }
  const text = definition.text;
  if (text !== undefined) {
    const format = isObject(text) ? text.format : undefined;
    if (isObject(format) && format.type === 'json_schema') {
      if (typeof format.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(format.name)) {
        return { message: 'A json_schema format needs a name.', param: 'definition.text.format.name' };
      }
      if (!isObject(format.schema)) {
        return { message: 'A json_schema format needs a schema.', param: 'definition.text.format.schema' };
      }
    }
  }
  if (metadata !== undefined && metadata !== null) {
    if (!isObject(metadata)) return { message: 'metadata must be an object.', param: 'metadata' };
    const entries = Object.entries(metadata);
    if (entries.length > 16) return { message: 'metadata holds at most 16 entries.', param: 'metadata' };
    for (const [k, v] of entries) {
      if (k.length > 64 || typeof v !== 'string' || v.length > 512) {
        return { message: `metadata entry '${k}' is too long or not a string.`, param: 'metadata' };
      }
    }
  }
  if (description !== undefined && description !== null && typeof description !== 'string') {
    return { message: 'description must be a string.', param: 'description' };
  }
  return undefined;
}

export async function startFoundryServer(options: FoundryServerOptions = {}): Promise<FoundryServer> {
  const project = options.project ?? 'baton';
  const store = new Map<string, StoredVersion[]>(
    (options.agents ?? [{ name: 'researcher' }]).map((a) => [a.name, [seededVersion(a)]]),
  );
  const agentNamed = (name: string): FoundryAgentSpec | undefined => {
    const versions = store.get(name);
    const latest = versions?.[versions.length - 1];
    return latest ? runtimeSpec(latest) : undefined;
  };
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
    const agent = agentNamed(agentRef.name);
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

  const notFound = (name: string, version?: string) => ({
    error: {
      code: 'NotFound',
      message:
        version === undefined
          ? `Agent '${name}' was not found in project '${project}'.`
          : `Version '${version}' of agent '${name}' was not found in project '${project}'.`,
    },
  });

  async function handleAgents(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    target: { name: string; versions: boolean; version: string | undefined },
  ): Promise<void> {
    const { name } = target;
    const versions = store.get(name) ?? [];
    const latest = versions[versions.length - 1];
    if (req.method === 'GET' && !target.versions) {
      if (!latest) return sendJson(res, record, 404, notFound(name));
      return sendJson(res, record, 200, { object: 'agent', id: name, name, versions: { latest } });
    }
    if (req.method === 'GET' && target.version === undefined) {
      if (!latest) return sendJson(res, record, 404, notFound(name));
      const data = [...versions].reverse();
      return sendJson(res, record, 200, {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data[data.length - 1]?.id ?? null,
        has_more: false,
      });
    }
    if (req.method === 'GET') {
      const found = versions.find((v) => v.version === target.version);
      if (!found) return sendJson(res, record, 404, notFound(name, target.version));
      return sendJson(res, record, 200, found);
    }
    if (req.method === 'POST' && target.versions && target.version === undefined) {
      if (!AGENT_NAME.test(name)) {
        return sendJson(res, record, 400, {
          error: { code: 'invalid_payload', message: `Invalid agent name '${name}'.`, param: 'agent_name' },
        });
      }
      const problem = invalidVersionBody(record.body);
      if (problem) {
        return sendJson(res, record, 400, {
          error: { code: 'invalid_payload', type: 'invalid_request_error', ...problem },
        });
      }
      const body = record.body as {
        definition: PromptAgentDefinition;
        description?: string | null;
        metadata?: Record<string, string> | null;
      };
      const version = String(Number(latest?.version ?? '0') + 1);
      const stored: StoredVersion = {
        metadata: body.metadata ?? {},
        object: 'agent.version',
        id: `${name}:${version}`,
        name,
        version,
        description: body.description ?? '',
        created_at: Math.floor(Date.now() / 1000),
        status: 'active',
        definition: body.definition,
      };
      store.set(name, [...versions, stored]);
      return sendJson(res, record, 200, stored);
    }
    return sendJson(res, record, 405, {
      error: { code: 'MethodNotAllowed', message: 'Method not allowed.' },
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
    const agentPath = new RegExp(`^${prefix}/agents/([^/]+)(/versions(?:/([^/]+))?)?$`).exec(url.pathname);
    if (agentPath) {
      if (!record.query['api-version']) {
        return sendJson(res, record, 400, {
          error: { code: 'BadRequest', message: 'api-version is required.' },
        });
      }
      return handleAgents(req, res, record, {
        name: decodeURIComponent(agentPath[1] ?? ''),
        versions: agentPath[2] !== undefined,
        version: agentPath[3] === undefined ? undefined : decodeURIComponent(agentPath[3]),
      });
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
    versions: (agent) => [...(store.get(agent) ?? [])],
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
