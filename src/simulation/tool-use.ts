import type { ChatRequest, ToolCall, ToolDefinition } from '../core/model.js';
import { hashString } from '../core/random.js';
import { TRANSFER_PREFIX } from '../orchestrators/handoff.js';
import type { SkillOutput } from './skill.js';

/**
 * How the simulated model uses an agent's tools, deterministically: on the first turn of a call that offers the
 * agent tools (any tool but a pattern's `transfer_to_*`), it calls each once with arguments built from the tool's
 * JSON Schema; once the results are in, it answers (text, or the requested schema) quoting the first 200
 * characters of each result. So tool behaviour is testable offline and end to end.
 */

/** Characters of each tool result the answer quotes. */
export const QUOTED_CHARS = 200;

type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Property names whose value is best taken from the task itself. */
const TEXT_ARGUMENTS = /^(q|query|question|search|text|input|prompt|topic|message)$/i;

/** One argument value: `default`, then `examples`, then `enum`, then a value from the task, else a placeholder. */
function valueFor(name: string, schema: Schema, task: string): unknown {
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'string' || type === undefined) {
    if (typeof schema.pattern === 'string') {
      const found = safeMatch(schema.pattern, task);
      if (found) return found;
    }
    if (TEXT_ARGUMENTS.test(name)) return task.replace(/\s+/g, ' ').trim().slice(0, 200);
    return `sample-${name}`;
  }
  if (type === 'integer' || type === 'number') {
    return typeof schema.minimum === 'number' ? schema.minimum : 1;
  }
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return argumentsFor(schema, task);
  return null;
}

/** The first match of a schema's `pattern` in the task (a pattern anchored with ^…$ is searched unanchored). */
function safeMatch(pattern: string, task: string): string | undefined {
  try {
    const unanchored = pattern.replace(/^\^/, '').replace(/\$$/, '');
    return new RegExp(unanchored).exec(task)?.[0];
  } catch {
    return undefined;
  }
}

/** Arguments for a tool: its required properties, and the others that declare a value to use. */
export function argumentsFor(schema: Schema, task: string): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const args: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(properties)) {
    if (!isSchema(sub)) continue;
    const hinted = sub.default !== undefined || sub.examples !== undefined || sub.enum !== undefined;
    if (required.has(name) || hinted) args[name] = valueFor(name, sub, task);
  }
  return args;
}

const agentTools = (request: ChatRequest): ToolDefinition[] =>
  (request.tools ?? []).filter((t) => !t.name.startsWith(TRANSFER_PREFIX));

/** The tool results of the current call (after the last user message), in order. */
function toolResults(request: ChatRequest): string[] {
  const lastUser = request.messages.map((m) => m.role).lastIndexOf('user');
  return request.messages.slice(lastUser + 1).flatMap((m) => (m.role === 'tool' ? [m.content] : []));
}

/** The first turn's tool calls, when the request offers the agent tools and none has been called yet. */
export function toolCallsFor(request: ChatRequest, task: string): ToolCall[] | undefined {
  const tools = agentTools(request);
  if (tools.length === 0 || toolResults(request).length > 0) return undefined;
  return tools.map((tool, i) => ({
    id: `call_${(hashString(`${request.seed}:${request.agent}:${tool.name}`) >>> 0).toString(36)}_${i}`,
    name: tool.name,
    arguments: JSON.stringify(argumentsFor(tool.parameters, task)),
  }));
}

/** What the answer adds after tool results: the first 200 characters of each, quoted. */
export function quotedResults(request: ChatRequest): string | undefined {
  const results = toolResults(request);
  if (results.length === 0) return undefined;
  return results.map((r) => `Tool result: "${r.slice(0, QUOTED_CHARS)}"`).join('\n');
}

/** A free-text property of a schema: a string with no enum, pattern, format or length bound to break. */
function freeText(schema: unknown): boolean {
  if (!isSchema(schema) || schema.type !== 'string') return false;
  return ['enum', 'const', 'pattern', 'format', 'maxLength'].every((k) => schema[k] === undefined);
}

/** An answer with the tool results quoted: appended to text, or to a free-text field of a JSON answer. */
export function withQuotes(out: SkillOutput, quotes: string, schema?: Record<string, unknown>): SkillOutput {
  if (out.json === undefined) return { ...out, text: `${out.text ?? ''}\n\n${quotes}`.trim() };
  if (!isSchema(out.json)) return out;
  const json = { ...out.json };
  const properties = isSchema(schema?.properties) ? schema.properties : {};
  const strings = Object.keys(json).filter((k) => typeof json[k] === 'string');
  // Without a schema to read, the longest string is the one most likely to be free text.
  const field = schema
    ? strings.find((k) => freeText(properties[k]))
    : strings.sort((a, b) => (json[b] as string).length - (json[a] as string).length)[0];
  if (field) json[field] = `${json[field] as string}\n\n${quotes}`;
  return { ...out, json };
}
