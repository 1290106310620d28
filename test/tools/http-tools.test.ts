import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryJournal } from '../../src/runs/journal.js';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { createTestEngine } from '../support/engine.js';

/** A local order service: counts calls, remembers what each request carried, and fails or stalls on demand. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
const longText = 'Order 42 is on its way. '.repeat(40);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/fail')) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"down"}');
      } else if (url.pathname.startsWith('/slow')) {
        setTimeout(() => res.writeHead(200).end('{"late":true}'), 2_000).unref();
      } else if (url.pathname.startsWith('/away')) {
        res.writeHead(302, { location: 'http://example.invalid/steal' }).end();
      } else if (url.pathname.startsWith('/big')) {
        res.writeHead(200).end(`"${'x'.repeat(5_000)}"`);
      } else {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ path: url.pathname, query: url.search, status: 'shipped', note: longText }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function team(tools: TeamDefinitionInput['tools'], agentTools: string[]) {
  const input: TeamDefinitionInput = {
    name: 'tooling',
    description: 'An agent with tools.',
    agents: [
      {
        name: 'clerk',
        description: 'Looks things up.',
        instructions: 'Look up the order and answer.',
        tools: agentTools,
        policy: { retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } },
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
    tools,
  };
  return new Map([['tooling', teamDefinitionSchema.parse(input)]]);
}

const orderTool = (url: string, extra: Record<string, unknown> = {}) => ({
  name: 'order_status',
  kind: 'http' as const,
  description: 'Status of an order.',
  method: 'GET' as const,
  url,
  parameters: {
    type: 'object',
    properties: {
      orderId: { type: 'string', examples: ['A/42 b'] },
      verbose: { type: 'boolean', default: true },
    },
    required: ['orderId'],
  },
  headers: { Authorization: 'Bearer ${env:ORDERS_TOKEN}' },
  ...extra,
});

const secrets = new Map([['ORDERS_TOKEN', 'sekret-token-123']]);
const request = { team: 'tooling', pattern: 'sequential' as const, input: 'Where is order A/42 b?' };

describe('HTTP tools in the tool loop', () => {
  it('calls the tool with URL-encoded path parameters, the query, the secret header and an Idempotency-Key, and the answer quotes the result', async () => {
    seen.length = 0;
    const engine = createTestEngine({
      teams: team([orderTool(`${base}/v1/orders/{orderId}`)], ['order_status']),
      tools: new ToolRuntime({ secrets, maxResultChars: 16_000 }),
    });
    const out = await engine.run(request, { runId: 'run-http-1' });
    expect(out.status).toBe('succeeded');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/v1/orders/A%2F42%20b?verbose=true');
    expect(seen[0]?.headers.authorization).toBe('Bearer sekret-token-123');
    expect(seen[0]?.headers['idempotency-key']).toBe('run-http-1:seq/0/agent:clerk#0/tool:0');
    const result = JSON.stringify({
      path: '/v1/orders/A%2F42%20b',
      query: '?verbose=true',
      status: 'shipped',
      note: longText,
    });
    expect(out.output?.text).toContain(result.slice(0, 200));
    const tools = out.steps.filter((s) => s.kind === 'tool');
    expect(tools).toEqual([
      expect.objectContaining({ tool: 'order_status', agent: 'clerk', status: 'succeeded', attempts: 1 }),
    ]);
    const types = out.events.events.map((e) => e.type);
    expect(types).toContain('tool.called');
    expect(types).toContain('tool.completed');
    expect(JSON.stringify(out.events.events)).not.toContain('sekret-token-123');
    expect(JSON.stringify(out.journal.entries())).not.toContain('sekret-token-123');
  });

  it('replays journaled tool calls without calling the tool again', async () => {
    seen.length = 0;
    const engine = createTestEngine({
      teams: team([orderTool(`${base}/v1/orders/{orderId}`)], ['order_status']),
      tools: new ToolRuntime({ secrets, maxResultChars: 16_000 }),
    });
    const journal = memoryJournal();
    const first = await engine.run(request, { journal, runId: 'run-replay' });
    const again = await engine.run(request, { journal, runId: 'run-replay', attempt: 2 });
    expect(seen).toHaveLength(1);
    expect(again.output).toEqual(first.output);
  });

  it('sends bad arguments from the model back to the model, not to the API', async () => {
    seen.length = 0;
    const tool = orderTool(`${base}/v1/orders/{orderId}`, {
      parameters: {
        type: 'object',
        properties: { orderId: { type: 'string', examples: [42] } },
        required: ['orderId'],
      },
    });
    const engine = createTestEngine({
      teams: team([tool], ['order_status']),
      tools: new ToolRuntime({ secrets, maxResultChars: 16_000 }),
    });
    const out = await engine.run(request);
    expect(seen).toHaveLength(0);
    expect(out.status).toBe('succeeded');
    expect(out.output?.text).toContain('TOOL_ARGUMENTS_INVALID');
    expect(out.steps.find((s) => s.kind === 'tool')?.error?.code).toBe('TOOL_ARGUMENTS_INVALID');
  });

  it('retries an idempotent tool that answers 500, shows the model the failure, then opens its breaker', async () => {
    seen.length = 0;
    const tool = orderTool(`${base}/fail/{orderId}`, {
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
    });
    const engine = createTestEngine({
      teams: team([tool], ['order_status']),
      tools: new ToolRuntime({ secrets, maxResultChars: 16_000 }),
    });
    const first = await engine.run(request);
    expect(seen).toHaveLength(2);
    expect(first.status).toBe('succeeded');
    expect(first.output?.text).toContain('TOOL_HTTP_ERROR');
    expect(first.steps.find((s) => s.kind === 'tool')).toMatchObject({ status: 'failed', attempts: 2 });
    await engine.run(request);
    expect(seen).toHaveLength(4);
    const third = await engine.run(request);
    expect(seen).toHaveLength(4);
    expect(third.output?.text).toContain('TOOL_UNAVAILABLE');
    const failed = third.events.events.find((e) => e.type === 'tool.failed');
    expect(failed).toMatchObject({ tool: 'order_status', error: { code: 'TOOL_UNAVAILABLE' } });
    expect(JSON.stringify(third.events.events)).not.toContain('sekret-token-123');
  });

  it('times a slow tool out, and a non-idempotent one is not retried', async () => {
    seen.length = 0;
    const tool = orderTool(`${base}/slow/{orderId}`, { method: 'POST', timeoutMs: 100 });
    const engine = createTestEngine({
      teams: team([tool], ['order_status']),
      tools: new ToolRuntime({ secrets, maxResultChars: 16_000 }),
    });
    const out = await engine.run(request);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toBe(JSON.stringify({ verbose: true }));
    expect(out.output?.text).toContain('TOOL_TIMEOUT');
    expect(out.steps.find((s) => s.kind === 'tool')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('refuses a redirect to another host and truncates long answers with a note', async () => {
    const engine = createTestEngine({
      teams: team(
        [
          orderTool(`${base}/away/{orderId}`),
          { ...orderTool(`${base}/big/{orderId}`), name: 'big', headers: {} },
        ],
        ['order_status', 'big'],
      ),
      tools: new ToolRuntime({ secrets, maxResultChars: 1_000 }),
    });
    const out = await engine.run(request);
    expect(out.output?.text).toContain('redirected to another host');
    const big = out.journal.entries().find(([k, e]) => e.kind === 'tool' && k.endsWith('tool:1'))?.[1];
    expect(big && 'content' in big ? big.content : '').toMatch(
      /\[truncated: the answer is longer than 1000 characters/,
    );
  });

  it('fails the call when a header uses a variable BATON_TOOL_SECRETS does not allow', async () => {
    seen.length = 0;
    const engine = createTestEngine({
      teams: team([orderTool(`${base}/v1/orders/{orderId}`)], ['order_status']),
      tools: new ToolRuntime({ secrets: new Map(), maxResultChars: 16_000 }),
    });
    const out = await engine.run(request);
    expect(seen).toHaveLength(0);
    expect(out.output?.text).toContain('TOOL_NOT_ALLOWED');
  });
});
