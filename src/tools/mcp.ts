import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolError } from '../core/errors.js';
import type { ExecutableTool, ToolSource } from './runtime.js';
import type { McpToolDeclaration } from './schema.js';

/**
 * `kind: mcp`: tools of a Model Context Protocol server, over stdio (a command the operator's team file names,
 * started in the teams folder with the SDK's minimal environment, so no secret of the worker reaches it) or
 * Streamable HTTP. A worker keeps one client per server and reuses it across runs; the server's tools are listed
 * once per connection and filtered by `allow`; a client whose transport closed is dropped, and the next call
 * starts the server (or connects) again. A tool answering `isError` is a result the model sees; a dead transport
 * fails the call.
 */

interface Connection {
  client: Client;
  tools: { name: string; description?: string | undefined; inputSchema: Record<string, unknown> }[];
  closed: boolean;
}

/** Errors the SDK raises when the transport is gone (the server exited, the connection dropped). */
function isTransportFailure(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /closed|ECONNREFUSED|ECONNRESET|EPIPE|not connected|terminated|fetch failed/i.test(text);
}

const keyOf = (t: McpToolDeclaration) => JSON.stringify(t.command ?? t.url);

export class McpClients {
  private readonly connections = new Map<string, Promise<Connection>>();

  constructor(private readonly cwd: string) {}

  /** The server's connection, opened (or re-opened after its transport closed) on first use. */
  connection(tool: McpToolDeclaration): Promise<Connection> {
    const key = keyOf(tool);
    const existing = this.connections.get(key);
    if (existing) return existing;
    const opening = this.open(tool).catch((err: unknown) => {
      this.connections.delete(key);
      throw new ToolError(
        'TOOL_UNAVAILABLE',
        `The MCP server "${tool.name}" could not be reached: ${messageOf(err)}`,
        true,
      );
    });
    this.connections.set(key, opening);
    return opening;
  }

  private async open(tool: McpToolDeclaration): Promise<Connection> {
    // The MCP SDK (~25 MB of a process's memory) is loaded when a team first calls an MCP server.
    const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
      import('@modelcontextprotocol/sdk/client/index.js'),
      import('@modelcontextprotocol/sdk/client/stdio.js'),
      import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    ]);
    const [command, ...args] = tool.command ?? [];
    const transport = command
      ? new StdioClientTransport({ command, args, cwd: this.cwd, stderr: 'ignore' })
      : new StreamableHTTPClientTransport(new URL(tool.url as string));
    const client = new Client({ name: 'baton', version: '1' });
    const connection: Connection = { client, tools: [], closed: false };
    const key = keyOf(tool);
    client.onclose = () => {
      connection.closed = true;
      // Only this connection's entry: a newer one may already have replaced it.
      void this.connections.get(key)?.then((c) => {
        if (c === connection) this.connections.delete(key);
      });
    };
    await client.connect(transport);
    const listed = await client.listTools();
    connection.tools = listed.tools.filter((t) => !tool.allow || tool.allow.includes(t.name));
    return connection;
  }

  /** Closes every client (worker shutdown). */
  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.then((x) => x.client.close()).catch(() => {})));
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The text of a tool result: its text parts, and a note for parts of other kinds. */
function resultText(result: Record<string, unknown>): string {
  const parts = Array.isArray(result.content) ? (result.content as Record<string, unknown>[]) : [];
  const text = parts
    .map((p) => (p.type === 'text' ? String(p.text) : `[${String(p.type)} content]`))
    .join('\n');
  const body =
    text || (result.structuredContent !== undefined ? JSON.stringify(result.structuredContent) : '');
  return result.isError === true ? `The tool reported an error: ${body}` : body;
}

/** The MCP source: each allowed tool of the server as `<source>__<tool>`. */
export function mcpSource(clients: McpClients): ToolSource {
  return async (declaration) => {
    const tool = declaration as McpToolDeclaration;
    const { tools } = await clients.connection(tool);
    return tools.map(
      (t): ExecutableTool => ({
        definition: {
          name: `${tool.name}__${t.name}`,
          description: t.description ?? tool.description ?? t.name,
          parameters: t.inputSchema,
        },
        type: 'extension',
        idempotent: tool.idempotent,
        declaration: tool,
        async attempt(args, attempt) {
          const connection = await clients.connection(tool);
          try {
            const result = await connection.client.callTool({ name: t.name, arguments: args }, undefined, {
              signal: attempt.signal,
              timeout: tool.timeoutMs,
            });
            return resultText(result);
          } catch (err) {
            if (attempt.signal.aborted) throw err;
            if (connection.closed || isTransportFailure(err)) {
              throw new ToolError(
                'TOOL_UNAVAILABLE',
                `The MCP server "${tool.name}" is gone: ${messageOf(err)}`,
                true,
              );
            }
            throw new ToolError('TOOL_FAILED', `The MCP tool "${t.name}" failed: ${messageOf(err)}`, false);
          }
        },
      }),
    );
  };
}
