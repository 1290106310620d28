import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { closeServer, listen, now } from './azure-openai-server.js';
import {
  bearerToken,
  type FixtureRequest,
  guarded,
  RequestLog,
  readInto,
  sendJson,
  stableHash,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A tiny MCP server of our own for tests, built on `@modelcontextprotocol/sdk`, over two transports:
 *
 * - stdio: `node --import tsx test/support/mcp-server.ts stdio` (see `MCP_STDIO_COMMAND`). When `MCP_CALL_LOG`
 *   names a file, every tool call appends one JSON line `{ tool, arguments, pid, at }` to it, so a test in another
 *   process can count calls (`readMcpCallLog`).
 * - Streamable HTTP: `startMcpHttpServer()` serves `POST/GET/DELETE /mcp` with sessions (`Mcp-Session-Id`), or
 *   `node --import tsx test/support/mcp-server.ts http [port]` (prints `{"url": …}`). Calls are recorded in `calls`,
 *   HTTP requests in `requests`; `bearerToken` makes it refuse other credentials with 401.
 *
 * Tools:
 * - `lookup_customer` `{ email }` → a customer record derived deterministically from the email
 *   (`customerFor`), as JSON text and `structuredContent`;
 * - `add` `{ a, b }` → the sum, as text (`"5"`) and `structuredContent: { sum }`;
 * - `fail_always` `{}` → a tool error (`isError: true`);
 * - `sleep` `{ ms }` → answers after `ms` (aborted when the client cancels), for timeout tests;
 * - `exit_now` `{}` (stdio only) → the process exits at once without answering, to test a dead transport.
 */

export const MCP_SERVER_FILE = fileURLToPath(import.meta.url);

/** How to launch the stdio server: `new StdioClientTransport({ ...MCP_STDIO_COMMAND, env })`. */
export const MCP_STDIO_COMMAND = {
  command: process.execPath,
  args: ['--import', 'tsx', MCP_SERVER_FILE, 'stdio'],
};

export interface McpCall {
  tool: string;
  arguments: Record<string, unknown>;
  /** Epoch milliseconds. */
  at: number;
  /** The HTTP session (Streamable HTTP only). */
  sessionId?: string;
  /** The process that served the call (stdio call log only). */
  pid?: number;
}

export interface Customer {
  id: string;
  email: string;
  name: string;
  tier: 'standard' | 'gold' | 'platinum';
  openOrders: number;
  /** ISO date (YYYY-MM-DD) the customer signed up. */
  since: string;
}

const TIERS: Customer['tier'][] = ['standard', 'gold', 'platinum'];

export function customerFor(email: string): Customer {
  const hash = stableHash(email.toLowerCase());
  const local = email.split('@')[0] ?? email;
  const name = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join(' ');
  return {
    id: `cus_${hash.toString(16).padStart(8, '0')}`,
    email,
    name: name || email,
    tier: TIERS[hash % TIERS.length] ?? 'standard',
    openOrders: hash % 4,
    since: new Date(Date.UTC(2020, 0, 1) + (hash % 1500) * 86_400_000).toISOString().slice(0, 10),
  };
}

/** The calls a stdio server appended to `file` (empty when it does not exist yet). */
export function readMcpCallLog(file: string): McpCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as McpCall);
}

/** Our MCP server with its tools; `onCall` sees every tool call before it runs. */
export function createTestMcpServer(options: {
  transport: 'stdio' | 'http';
  onCall: (call: McpCall) => void;
}): McpServer {
  const server = new McpServer({ name: 'baton-test-mcp', version: '1.0.0' });
  const record = (tool: string, args: Record<string, unknown>, sessionId?: string) =>
    options.onCall({ tool, arguments: args, at: now(), ...(sessionId ? { sessionId } : {}) });

  server.registerTool(
    'lookup_customer',
    {
      description: 'Looks up a customer by email address.',
      inputSchema: { email: z.string().describe('The customer email address') },
      outputSchema: {
        id: z.string(),
        email: z.string(),
        name: z.string(),
        tier: z.enum(['standard', 'gold', 'platinum']),
        openOrders: z.number(),
        since: z.string(),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ email }, extra) => {
      record('lookup_customer', { email }, extra.sessionId);
      const customer = customerFor(email);
      return {
        content: [{ type: 'text', text: JSON.stringify(customer) }],
        structuredContent: { ...customer },
      };
    },
  );

  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    async ({ a, b }, extra) => {
      record('add', { a, b }, extra.sessionId);
      return { content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } };
    },
  );

  server.registerTool(
    'fail_always',
    { description: 'Always answers with a tool error.', inputSchema: {} },
    async (_args, extra) => {
      record('fail_always', {}, extra.sessionId);
      return { isError: true, content: [{ type: 'text', text: 'fail_always: this tool always fails.' }] };
    },
  );

  server.registerTool(
    'sleep',
    {
      description: 'Answers after the given number of milliseconds.',
      inputSchema: { ms: z.number().int().min(0) },
    },
    async ({ ms }, extra) => {
      record('sleep', { ms }, extra.sessionId);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );

  if (options.transport === 'stdio') {
    server.registerTool(
      'exit_now',
      { description: 'Exits the server process at once, without answering.', inputSchema: {} },
      async () => {
        record('exit_now', {});
        process.exit(3);
      },
    );
  }
  return server;
}

export interface McpHttpServerOptions {
  port?: number;
  /** When set, requests must carry `Authorization: Bearer {bearerToken}` (else 401). */
  bearerToken?: string;
}

export interface McpHttpServer {
  /** The MCP endpoint (`http://127.0.0.1:port/mcp`), what a `StreamableHTTPClientTransport` is given. */
  url: string;
  port: number;
  calls: McpCall[];
  requests: FixtureRequest[];
  /** Open sessions (initialized and not deleted). */
  readonly sessions: number;
  waitForRequest(
    predicate: (request: FixtureRequest) => boolean,
    options?: WaitOptions,
  ): Promise<FixtureRequest[]>;
  close(): Promise<void>;
}

export async function startMcpHttpServer(options: McpHttpServerOptions = {}): Promise<McpHttpServer> {
  const calls: McpCall[] = [];
  const log = new RequestLog();
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();

  const jsonRpcError = (res: ServerResponse, record: FixtureRequest, status: number, message: string) =>
    sendJson(res, record, status, { jsonrpc: '2.0', error: { code: -32000, message }, id: null });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record = log.start(req, res, url, {});
    if (req.method === 'POST') await readInto(req, record);
    if (url.pathname !== '/mcp') return sendJson(res, record, 404, { error: 'not found' });
    if (options.bearerToken !== undefined && bearerToken(req.headers) !== options.bearerToken) {
      return sendJson(res, record, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    }
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    res.on('finish', () => {
      record.status = res.statusCode;
      log.notify();
    });
    if (existing) return existing.transport.handleRequest(req, res, record.body);
    if (sessionId !== undefined) return jsonRpcError(res, record, 404, 'Session not found');
    if (req.method !== 'POST' || !isInitializeRequest(record.body)) {
      return jsonRpcError(res, record, 400, 'Bad Request: No valid session ID provided');
    }
    const server = createTestMcpServer({ transport: 'http', onCall: (call) => calls.push(call) });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, record.body);
  }

  const http: Server = createServer(guarded(handle));
  return listen(http, options.port ?? 0, (url, port) => ({
    url: `${url}/mcp`,
    port,
    calls,
    requests: log.items,
    get sessions() {
      return sessions.size;
    },
    waitForRequest: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
    async close() {
      for (const { server } of [...sessions.values()]) await server.close();
      await closeServer(http);
    },
  }));
}

async function main(mode: string | undefined): Promise<void> {
  if (mode === 'stdio') {
    const logFile = process.env.MCP_CALL_LOG;
    const server = createTestMcpServer({
      transport: 'stdio',
      onCall: (call) => {
        // Synchronous, so the line is on disk even when the call is `exit_now`.
        if (logFile) appendFileSync(logFile, `${JSON.stringify({ ...call, pid: process.pid })}\n`);
      },
    });
    await server.connect(new StdioServerTransport());
    return;
  }
  if (mode === 'http') {
    const server = await startMcpHttpServer({ port: Number(process.argv[3] ?? 0) });
    process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }
  process.stderr.write('usage: mcp-server.ts stdio | http [port]\n');
  process.exit(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv[2]).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
