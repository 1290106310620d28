import { z } from 'zod';

/**
 * Tools as a team document declares them: `kind: http` (a JSON HTTP API), `kind: mcp` (a Model Context Protocol
 * server, over stdio or Streamable HTTP) and `kind: search` (an embedded full-text index over the team's documents,
 * or an Azure AI Search index). Agents name the tools they may call; an MCP server's tools are named
 * `<source>__<tool>`.
 */

export const toolLimits = {
  tools: 32,
  perAgent: 32,
  descriptionChars: 2_000,
  parametersBytes: 65_536,
  headers: 32,
} as const;

/** Tool names: what models call them by (OpenAI and Azure accept letters, digits, `_` and `-`, at most 64). */
export const toolNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,47}$/, 'must be letters, digits, "_" or "-", starting with a letter');

/** An agent's reference to a tool: a declared tool, or one tool of an MCP server (`<source>__<tool>`). */
export const toolRefSchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_-]{0,47}(__[A-Za-z0-9_.-]{1,64})?$/,
    'must name a declared tool, or an MCP tool as <source>__<tool>',
  );

const jsonSchemaObject = z
  .record(z.string(), z.unknown())
  .refine((v) => JSON.stringify(v).length <= toolLimits.parametersBytes, {
    message: `must be at most ${toolLimits.parametersBytes} bytes of JSON`,
  })
  .describe('JSON Schema of the arguments object.');

export const approvalTimeoutMsSchema = z
  .number()
  .int()
  .min(1_000)
  .max(30 * 24 * 3600 * 1000)
  .describe('How long a request for a person waits before it expires with the default decision (reject).');

const common = {
  name: toolNameSchema,
  approval: z
    .enum(['always', 'never'])
    .default('never')
    .describe(
      'always: each call waits for a person to approve it before it runs (POST /v1/runs/{id}/input).',
    ),
  approvalTimeoutMs: approvalTimeoutMsSchema.optional(),
  description: z.string().min(1).max(toolLimits.descriptionChars).optional(),
  timeoutMs: z.number().int().min(1).max(600_000).default(10_000).describe('Per attempt.'),
  retry: z
    .object({
      maxAttempts: z.number().int().min(1).max(10).default(3),
      initialDelayMs: z.number().int().min(0).default(200),
      maxDelayMs: z.number().int().min(0).default(5_000),
    })
    .strict()
    .default({ maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 5_000 })
    .describe('Applied only to idempotent tools.'),
  breaker: z
    .object({
      failureThreshold: z.number().int().min(1).default(5),
      halfOpenAfterMs: z.number().int().min(1).default(10_000),
    })
    .strict()
    .default({ failureThreshold: 5, halfOpenAfterMs: 10_000 }),
};

export const httpToolSchema = z
  .object({
    ...common,
    kind: z.literal('http'),
    description: z.string().min(1).max(toolLimits.descriptionChars),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http or https URL')
      .describe('GET/DELETE: arguments fill {placeholders}, the rest become the query string.'),
    parameters: jsonSchemaObject.default({ type: 'object', properties: {} }),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4_096))
      .refine((h) => Object.keys(h).length <= toolLimits.headers, `at most ${toolLimits.headers} headers`)
      .optional()
      .describe('`${env:NAME}` is replaced by the variable when BATON_TOOL_SECRETS allows it.'),
    idempotent: z.boolean().optional().describe('Safe to re-send after a crash (default: GET only).'),
  })
  .strict();

export const mcpToolSchema = z
  .object({
    ...common,
    kind: z.literal('mcp'),
    command: z
      .array(z.string().min(1).max(4_096))
      .min(1)
      .max(64)
      .optional()
      .describe('stdio transport: the server command (team files only).'),
    url: z.string().url().optional().describe('Streamable HTTP transport: the server endpoint.'),
    allow: z
      .array(z.string().min(1).max(64))
      .max(256)
      .optional()
      .describe("Allow-list of the server's tools."),
    idempotent: z.boolean().default(false).describe("Safe to re-send the server's tools after a crash."),
  })
  .strict()
  .refine((t) => (t.command === undefined) !== (t.url === undefined), {
    message: 'needs exactly one of command (stdio) or url (Streamable HTTP)',
  });

export const searchToolSchema = z
  .object({
    ...common,
    kind: z.literal('search'),
    description: z.string().min(1).max(toolLimits.descriptionChars),
    source: z
      .string()
      .min(1)
      .max(1_024)
      .optional()
      .describe('Embedded index: a glob of Markdown/JSON files, relative to the team file.'),
    azure: z
      .object({
        endpoint: z.string().url(),
        index: z.string().regex(/^[a-z0-9][a-z0-9-]{0,127}$/),
        key: z.string().max(4_096).optional().describe('`${env:NAME}`; absent: Entra ID.'),
        contentField: z.string().min(1).max(128).default('content'),
        idField: z.string().min(1).max(128).default('id'),
        titleField: z.string().min(1).max(128).optional(),
      })
      .strict()
      .optional()
      .describe('An Azure AI Search index instead of the embedded one.'),
    top: z.number().int().min(1).max(20).default(3),
  })
  .strict()
  .refine((t) => (t.source === undefined) !== (t.azure === undefined), {
    message: 'needs exactly one of source (embedded index) or azure (Azure AI Search)',
  });

/**
 * `kind: human`: the built-in question to a person (`ask_human`). The agent asks a free-text question and the run
 * waits, holding no worker, until someone answers over the API or the request expires.
 */
export const humanToolSchema = z
  .object({
    name: toolNameSchema,
    kind: z.literal('human'),
    description: z
      .string()
      .min(1)
      .max(toolLimits.descriptionChars)
      .optional()
      .describe('What the model is told the tool is for (default: ask a person a question).'),
    approvalTimeoutMs: approvalTimeoutMsSchema.optional(),
  })
  .strict();

export const toolDeclarationSchema = z.discriminatedUnion('kind', [
  httpToolSchema,
  mcpToolSchema,
  searchToolSchema,
  humanToolSchema,
]);
export type ToolDeclaration = z.infer<typeof toolDeclarationSchema>;
export type HttpToolDeclaration = z.infer<typeof httpToolSchema>;
export type McpToolDeclaration = z.infer<typeof mcpToolSchema>;
export type SearchToolDeclaration = z.infer<typeof searchToolSchema>;
export type HumanToolDeclaration = z.infer<typeof humanToolSchema>;
/** The tools a call goes out to (a `kind: human` tool is a question to a person, handled by the engine). */
export type CallableToolDeclaration = Exclude<ToolDeclaration, { kind: 'human' }>;

/** Whether a tool's call may be re-sent after a crash left its outcome unknown. */
export function isIdempotent(tool: ToolDeclaration): boolean {
  if (tool.kind === 'search' || tool.kind === 'human') return true;
  if (tool.kind === 'mcp') return tool.idempotent;
  return tool.idempotent ?? tool.method === 'GET';
}
