import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';
import { McpClients, mcpSource } from '../../src/tools/mcp.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { createTestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '../..');
const everything = resolve(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const exitServer = resolve(root, 'test/fixtures/mcp-exit-server.mjs');

const clients = new McpClients(root);

/** A Streamable HTTP MCP server (stateless: one server and transport per request, as the SDK's examples do). */
let http: Server;
let mcpUrl: string;
let httpCalls = 0;
beforeAll(async () => {
  http = createServer(async (req, res) => {
    const server = new McpServer({ name: 'http-orders', version: '1.0.0' });
    server.registerTool(
      'eta',
      { description: 'Delivery estimate of an order.', inputSchema: { orderId: z.string() } },
      async ({ orderId }) => {
        httpCalls++;
        return { content: [{ type: 'text', text: `Order ${orderId} arrives on Friday.` }] };
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  mcpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
});
afterAll(async () => {
  await clients.close();
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

function engineWith(tools: TeamDefinitionInput['tools'], agentTools: string[]) {
  const input: TeamDefinitionInput = {
    name: 'mcp-team',
    description: 'An agent with MCP tools.',
    agents: [
      {
        name: 'clerk',
        description: 'Uses MCP tools.',
        instructions: 'Use the tools, then answer.',
        tools: agentTools,
        policy: { retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } },
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
    tools,
  };
  return createTestEngine({
    teams: new Map([['mcp-team', teamDefinitionSchema.parse(input)]]),
    tools: new ToolRuntime({
      secrets: new Map(),
      maxResultChars: 16_000,
      sources: { mcp: mcpSource(clients) },
    }),
  });
}

const request = { team: 'mcp-team', pattern: 'sequential' as const, input: 'Where is order 42?' };

describe('MCP tools', () => {
  it('calls a stdio MCP server (the reference "everything" server) through its allow-list', async () => {
    const engine = engineWith(
      [
        {
          name: 'everything',
          kind: 'mcp',
          command: [process.execPath, everything, 'stdio'],
          allow: ['echo', 'get-sum'],
        },
      ],
      ['everything'],
    );
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    const tools = out.steps.filter((s) => s.kind === 'tool').map((s) => s.tool);
    expect(tools.sort()).toEqual(['everything__echo', 'everything__get-sum']);
    expect(out.output?.text).toContain('Echo: ');
    const offered = engine.model.requests[0]?.tools?.map((t) => t.name);
    expect(offered?.sort()).toEqual(['everything__echo', 'everything__get-sum']);
  }, 30_000);

  it('calls a Streamable HTTP MCP server', async () => {
    const engine = engineWith([{ name: 'remote', kind: 'mcp', url: mcpUrl }], ['remote__eta']);
    const out = await engine.run(request);
    expect(httpCalls).toBe(1);
    expect(out.steps.find((s) => s.kind === 'tool')).toMatchObject({
      tool: 'remote__eta',
      status: 'succeeded',
    });
    expect(out.output?.text).toContain('Order sample-orderId arrives on Friday.');
  }, 30_000);

  it('shows the model an isError answer as the tool result', async () => {
    const engine = engineWith(
      [{ name: 'orders', kind: 'mcp', command: [process.execPath, exitServer] }],
      ['orders__refuse'],
    );
    const out = await engine.run(request);
    expect(out.steps.find((s) => s.kind === 'tool')).toMatchObject({
      tool: 'orders__refuse',
      status: 'succeeded',
    });
    expect(out.output?.text).toContain('The tool reported an error: no such order');
  }, 30_000);

  it('a server that exits fails the call, and the next call starts it again', async () => {
    const engine = engineWith(
      [{ name: 'orders', kind: 'mcp', command: [process.execPath, exitServer] }],
      ['orders__crash'],
    );
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(out.steps.find((s) => s.kind === 'tool')).toMatchObject({
      tool: 'orders__crash',
      status: 'failed',
      error: { code: 'TOOL_UNAVAILABLE' },
    });
    const again = engineWith(
      [{ name: 'orders', kind: 'mcp', command: [process.execPath, exitServer] }],
      ['orders__lookup'],
    );
    const next = await again.run(request);
    expect(next.steps.find((s) => s.kind === 'tool')).toMatchObject({
      tool: 'orders__lookup',
      status: 'succeeded',
    });
    expect(next.output?.text).toMatch(/Order sample-orderId left the warehouse/);
  }, 30_000);
});
