import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerFor,
  MCP_STDIO_COMMAND,
  type McpHttpServer,
  readMcpCallLog,
  startMcpHttpServer,
} from './mcp-server.js';

interface TextContent {
  type: string;
  text?: string;
}
/** The text of a tool result (`callTool` also types the legacy `{ toolResult }` shape, hence `object`). */
const textOf = (result: object): string =>
  ('content' in result && Array.isArray(result.content) ? (result.content as TextContent[]) : [])
    .map((c) => c.text ?? '')
    .join('');

describe('our MCP server over stdio', () => {
  let dir: string;
  let callLog: string;
  let client: Client;
  let transport: StdioClientTransport;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-mcp-'));
    callLog = join(dir, 'calls.jsonl');
    transport = new StdioClientTransport({
      ...MCP_STDIO_COMMAND,
      env: { MCP_CALL_LOG: callLog },
      stderr: 'pipe',
    });
    client = new Client({ name: 'baton-test', version: '1.0.0' });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists its tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'add',
      'exit_now',
      'fail_always',
      'lookup_customer',
      'sleep',
    ]);
    const add = tools.find((t) => t.name === 'add');
    expect(add?.inputSchema).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
    });
  });

  it('calls add, lookup_customer and fail_always, and logs each call to MCP_CALL_LOG', async () => {
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(textOf(sum)).toBe('5');
    expect(sum.structuredContent).toEqual({ sum: 5 });

    const customer = await client.callTool({
      name: 'lookup_customer',
      arguments: { email: 'ada.lovelace@example.com' },
    });
    expect(customer.structuredContent).toEqual(customerFor('ada.lovelace@example.com'));
    expect(JSON.parse(textOf(customer))).toMatchObject({
      name: 'Ada Lovelace',
      email: 'ada.lovelace@example.com',
    });
    expect(customerFor('ada.lovelace@example.com')).toEqual(customerFor('ada.lovelace@example.com'));

    const failed = await client.callTool({ name: 'fail_always', arguments: {} });
    expect(failed.isError).toBe(true);

    const invalid = await client.callTool({ name: 'add', arguments: { a: 'two', b: 3 } });
    expect(invalid.isError).toBe(true);

    const logged = readMcpCallLog(callLog);
    expect(logged.map((c) => c.tool)).toEqual(['add', 'lookup_customer', 'fail_always']);
    expect(logged[0]).toMatchObject({ arguments: { a: 2, b: 3 }, pid: expect.any(Number) });
  });

  it('cancels a slow call when the client times out', async () => {
    await expect(
      client.callTool({ name: 'sleep', arguments: { ms: 60_000 } }, undefined, { timeout: 100 }),
    ).rejects.toThrow(/timed out/i);
    expect(textOf(await client.callTool({ name: 'sleep', arguments: { ms: 1 } }))).toBe('slept 1 ms');
  });

  it('exit_now kills the process: the call fails and the transport closes', async () => {
    // The client's own close callback: the transport's is the client's hook into the transport.
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    await expect(client.callTool({ name: 'exit_now', arguments: {} })).rejects.toThrow();
    await closed;
    expect(readMcpCallLog(callLog).at(-1)?.tool).toBe('exit_now');
    await expect(client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).rejects.toThrow();
  });
});

describe('our MCP server over Streamable HTTP', () => {
  let server: McpHttpServer;
  beforeAll(async () => {
    server = await startMcpHttpServer();
  });
  afterAll(() => server.close());

  it('serves the tools (without exit_now) and records calls per session', async () => {
    const client = new Client({ name: 'baton-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(server.url));
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'fail_always', 'lookup_customer', 'sleep']);
    expect((await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } })).structuredContent).toEqual({
      sum: 42,
    });
    expect((await client.callTool({ name: 'fail_always', arguments: {} })).isError).toBe(true);
    expect(server.calls.map((c) => [c.tool, c.sessionId])).toEqual([
      ['add', transport.sessionId],
      ['fail_always', transport.sessionId],
    ]);
    expect(server.sessions).toBe(1);
    await transport.terminateSession();
    expect(server.sessions).toBe(0);
    await client.close();
  });

  it('refuses other credentials when a bearer token is required', async () => {
    const guarded = await startMcpHttpServer({ bearerToken: 'mcp-token' });
    try {
      const anonymous = new Client({ name: 'baton-test', version: '1.0.0' });
      await expect(
        anonymous.connect(new StreamableHTTPClientTransport(new URL(guarded.url))),
      ).rejects.toThrow();
      expect(guarded.requests[0]?.status).toBe(401);

      const client = new Client({ name: 'baton-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(guarded.url), {
          requestInit: { headers: { authorization: 'Bearer mcp-token' } },
        }),
      );
      expect(textOf(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
      await client.close();
    } finally {
      await guarded.close();
    }
  });
});

describe('the published @modelcontextprotocol/server-everything', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: 'baton-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
        stderr: 'pipe',
      }),
    );
  });
  afterAll(() => client.close());

  it('runs offline over stdio and lists its tools', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    // A client without roots, sampling or elicitation capabilities sees exactly these (version 2026.8.31).
    expect(names.sort()).toEqual([
      'echo',
      'get-annotated-message',
      'get-env',
      'get-resource-links',
      'get-resource-reference',
      'get-structured-content',
      'get-sum',
      'get-tiny-image',
      'gzip-file-as-resource',
      'simulate-research-query',
      'toggle-simulated-logging',
      'toggle-subscriber-updates',
      'trigger-long-running-operation',
    ]);
  });

  it('calls echo and get-sum', async () => {
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello' } }))).toBe(
      'Echo: hello',
    );
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toBe(
      'The sum of 2 and 3 is 5.',
    );
  });
});
