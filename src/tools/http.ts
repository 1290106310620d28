import { ToolError } from '../core/errors.js';
import type { HttpToolDeclaration } from './schema.js';

/** What one attempt of a tool call needs beside its arguments. */
export interface ToolAttempt {
  signal: AbortSignal;
  /** `<run id>:<step key>`: the same on every attempt and every re-send after a crash. */
  idempotencyKey: string;
}

export interface HttpToolDeps {
  /** `${env:NAME}` values the operator allows (BATON_TOOL_SECRETS). */
  secrets: ReadonlyMap<string, string>;
  maxResultChars: number;
}

const MAX_REDIRECTS = 5;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Replaces `${env:NAME}` with the allowed variable; a variable the operator did not allow fails the call. */
export function substituteSecrets(text: string, secrets: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = secrets.get(name);
    if (value === undefined) {
      throw new ToolError(
        'TOOL_NOT_ALLOWED',
        `The tool uses \${env:${name}}, which BATON_TOOL_SECRETS does not allow.`,
        false,
      );
    }
    return value;
  });
}

/** The URL with `{placeholders}` filled (URL-encoded) and, without a body, the other arguments as the query. */
function requestUrl(tool: HttpToolDeclaration, args: Record<string, unknown>): { url: URL; rest: object } {
  const used = new Set<string>();
  const filled = tool.url.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    used.add(name);
    const value = args[name];
    if (value === undefined || value === null) {
      throw new ToolError('TOOL_ARGUMENTS_INVALID', `The argument "${name}" is required.`, false);
    }
    return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));
  });
  const url = new URL(filled);
  const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !used.has(k)));
  if (!BODY_METHODS.has(tool.method)) {
    for (const [k, v] of Object.entries(rest)) {
      if (v !== undefined && v !== null)
        url.searchParams.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  return { url, rest };
}

/** At most `max` characters of a response, with a note the model can read when it was cut. */
export function truncated(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[truncated: the answer is longer than ${max} characters; the first ${max} are shown]`;
}

/** Reads a body up to a limit (the rest is never buffered). */
async function readLimited(res: Response, maxChars: number): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: '', cut: false };
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > maxChars) return { text, cut: true };
  }
  return { text: text + decoder.decode(), cut: false };
}

/**
 * One attempt of an HTTP tool call. Redirects are followed only on the same host; 429 and 5xx are retryable
 * failures, other 4xx are final ones; the answer is truncated to `maxResultChars` with a note. Error messages
 * name the status and quote the answer, never a header.
 */
export async function callHttpTool(
  tool: HttpToolDeclaration,
  args: Record<string, unknown>,
  attempt: ToolAttempt,
  deps: HttpToolDeps,
): Promise<string> {
  const { url, rest } = requestUrl(tool, args);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'idempotency-key': attempt.idempotencyKey,
  };
  for (const [name, value] of Object.entries(tool.headers ?? {}))
    headers[name] = substituteSecrets(value, deps.secrets);
  const body = BODY_METHODS.has(tool.method) ? JSON.stringify(rest) : undefined;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let target = url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(target, {
      method: tool.method,
      headers,
      body,
      redirect: 'manual',
      signal: attempt.signal,
    });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, target);
      if (next.host !== url.host || next.protocol !== url.protocol) {
        throw new ToolError(
          'TOOL_FAILED',
          `The tool redirected to another host (${next.host}); refused.`,
          false,
        );
      }
      if (hop >= MAX_REDIRECTS)
        throw new ToolError('TOOL_FAILED', 'The tool redirected too many times.', false);
      target = next;
      continue;
    }
    const { text, cut } = await readLimited(res, deps.maxResultChars);
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      throw new ToolError(
        'TOOL_HTTP_ERROR',
        `The tool answered HTTP ${res.status}: ${text.slice(0, 500)}`,
        retryable,
        {
          status: res.status,
        },
      );
    }
    return cut ? truncated(text, deps.maxResultChars) : text;
  }
}
