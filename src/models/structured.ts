import type { ChatMessage, ChatResult, ResponseFormat, TokenUsage } from '../core/model.js';
import { checkAgainstJsonSchema } from '../core/output-schema.js';

/**
 * Structured outputs, the provider side: whether a JSON Schema can be sent with `strict: true`, a quick check of
 * an answer against the schema, and the one corrective re-ask. The agent runtime still validates the final answer
 * against the agent's output schema; this only spends one extra model call to give the model a chance to fix its
 * own formatting.
 */

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether OpenAI/Azure strict mode accepts `schema`: every object lists all its properties in `required` and sets
 * `additionalProperties: false`, recursively (properties, items, anyOf, $defs).
 */
export function isStrictCompatible(schema: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.every(visit);
    if (!isObject(node) || seen.has(node)) return true;
    seen.add(node);
    const types = Array.isArray(node.type) ? node.type : [node.type];
    const properties = isObject(node.properties) ? node.properties : undefined;
    if (types.includes('object') || properties) {
      if (node.additionalProperties !== false) return false;
      const required = Array.isArray(node.required) ? node.required : [];
      for (const key of Object.keys(properties ?? {})) if (!required.includes(key)) return false;
    }
    for (const key of ['properties', '$defs', 'definitions'] as const) {
      const children = node[key];
      if (isObject(children) && !Object.values(children).every(visit)) return false;
    }
    for (const key of ['items', 'anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
      if (node[key] !== undefined && !visit(node[key])) return false;
    }
    return true;
  };
  return visit(schema);
}

/** The `strict` flag to send: the request's wish, but only when the schema allows it. */
export function strictFlag(format: ResponseFormat): boolean {
  return format.strict && isStrictCompatible(format.schema);
}

export type StructuredCheck = { ok: true; json: string } | { ok: false; problem: string };

/**
 * Whether `text` is JSON satisfying `schema` (checked with Ajv; a schema Ajv cannot compile leaves only the JSON
 * syntax checked). `json` is the answer to keep: `text` itself, or its content when the model wrapped valid JSON
 * in a Markdown fence. `problem` is one phrase saying what is wrong.
 */
export function checkStructuredAnswer(text: string, schema: Schema): StructuredCheck {
  const json = stripCodeFence(text);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return {
      ok: false,
      problem: `it is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  const checked = checkAgainstJsonSchema(schema, value);
  if (!checked || checked.ok) return { ok: true, json };
  return { ok: false, problem: `it does not match the schema (${checked.problem})` };
}

/** Models sometimes wrap JSON in a Markdown fence even when asked not to. */
function stripCodeFence(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return fenced?.[1] ?? trimmed;
}

/** The follow-up messages of a corrective re-ask: the model's answer, then what to fix. */
export function correctiveMessages(answer: string, format: ResponseFormat, problem: string): ChatMessage[] {
  return [
    { role: 'assistant', content: answer },
    {
      role: 'user',
      content:
        `Your previous answer cannot be used: ${problem}. Answer again with only a JSON value that satisfies the ` +
        `JSON Schema "${format.name}" below; no prose, no Markdown.\n${JSON.stringify(format.schema)}`,
    },
  ];
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

/**
 * Runs `ask` and, when the request wants structured output and the answer is not valid for the schema, asks once
 * more with a corrective message — unless `maxRequests` is 1. The second answer is returned whatever it is (the
 * runtime judges it), with the usage of both calls. Answers that are tool calls or were cut off by the token limit
 * are returned as they are. When the second request fails, its error carries what the first one spent
 * (`spentBefore`).
 */
export async function withCorrectiveRetry(
  messages: ChatMessage[],
  format: ResponseFormat | undefined,
  ask: (messages: ChatMessage[]) => Promise<ChatResult>,
  maxRequests = 2,
): Promise<ChatResult> {
  const first = await ask(messages);
  if (!format || first.toolCalls.length > 0 || first.finishReason === 'length') return first;
  const check = checkStructuredAnswer(first.message.content, format.schema);
  if (check.ok) return withContent(first, check.json);
  if (maxRequests < 2) return first;
  let second: ChatResult;
  try {
    second = await ask([...messages, ...correctiveMessages(first.message.content, format, check.problem)]);
  } catch (err) {
    if (typeof err === 'object' && err !== null) spent.set(err, { requests: 2, usage: first.usage });
    throw err;
  }
  const recheck =
    second.toolCalls.length > 0 ? undefined : checkStructuredAnswer(second.message.content, format.schema);
  const answer = recheck?.ok ? withContent(second, recheck.json) : second;
  const result: ChatResult = { ...answer, usage: addUsage(first.usage, second.usage) };
  reasked.add(result);
  return result;
}

/** Results that took a corrective re-ask (two HTTP requests). */
const reasked = new WeakSet<ChatResult>();
/** Errors of a re-ask, with what the call had spent before it failed. */
const spent = new WeakMap<object, { requests: number; usage: TokenUsage }>();

/** How many model requests produced `result`: 2 after a corrective re-ask, else 1 (quota and budget accounting). */
export function requestsMade(result: ChatResult): number {
  return reasked.has(result) ? 2 : 1;
}

/** What a failed call spent before it failed: two requests and the first one's usage when the re-ask failed. */
export function spentBefore(err: unknown): { requests: number; usage: TokenUsage } {
  const known = typeof err === 'object' && err !== null ? spent.get(err) : undefined;
  return known ?? { requests: 1, usage: { inputTokens: 0, outputTokens: 0 } };
}

function withContent(result: ChatResult, content: string): ChatResult {
  return content === result.message.content ? result : { ...result, message: { role: 'assistant', content } };
}
