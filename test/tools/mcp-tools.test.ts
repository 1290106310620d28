import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';
import { McpClients, mcpSource } from '../../src/tools/mcp.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { createTestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '../..');
const everything = resolve(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const exitServer = resolve(root, 'test/fixtures/mcp-exit-server.mjs');

const clients = new McpClients(root);
afterAll(() => clients.close());

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
