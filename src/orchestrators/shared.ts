import type { AgentResult, AgentSpec } from '../core/agent.js';
import type { AgentFailedError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { OutputSchema } from '../core/output-schema.js';
import type { RunContext } from '../core/run-context.js';

/** Small helpers the patterns share. Everything that touches the run goes through `ctx`. */

/**
 * Emits a pattern event once per run: the emission is a journaled step, so an attempt that resumes from the
 * journal does not repeat events the first attempt already sent (agent events behave the same way).
 */
export async function emitOnce(ctx: RunContext, key: string, event: RunEventInput): Promise<void> {
  await ctx.step(`${key}/event`, async () => {
    await ctx.emit(event);
    return true;
  });
}

/** The `code` of the error that made an agent call fail (`MODEL_OUTPUT_INVALID`, `AGENT_TIMEOUT`, ...). */
export function causeOf(err: AgentFailedError): {
  code: string;
  message: string;
  details?: Record<string, unknown>;
} {
  const cause = err.details?.cause as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  return {
    code: typeof cause?.code === 'string' ? cause.code : err.code,
    message: typeof cause?.message === 'string' ? cause.message : err.message,
    ...(cause?.details && typeof cause.details === 'object'
      ? { details: cause.details as Record<string, unknown> }
      : {}),
  };
}

/** Parses JSON text; `undefined` when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.trim());
  } catch {
    return undefined;
  }
}

/** The structured answer of `result` under `schema`: its own structured value or its text read as JSON. */
export function structuredUnder(
  result: Pick<AgentResult, 'text' | 'structured'>,
  schema: OutputSchema,
): unknown {
  const candidate = result.structured !== undefined ? result.structured : parseJson(result.text);
  if (candidate === undefined) return undefined;
  const checked = schema.check(candidate);
  return checked.ok ? checked.value : undefined;
}

/** The run output of one agent answer: its text, and its structured value when it has one. */
export function outputOf(result: Pick<AgentResult, 'text' | 'structured'>): {
  text: string;
  structured?: unknown;
} {
  return { text: result.text, ...(result.structured !== undefined ? { structured: result.structured } : {}) };
}

/**
 * Runs `task` over `items` with at most `limit` in flight, in list order, and waits for all of them (a failure
 * does not abandon calls in flight: their results still reach the journal). Results keep the input order.
 */
export async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index] as T, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The team members as lines a manager reads: `- name: description`. */
export function teamLines(agents: readonly AgentSpec[]): string {
  return agents.map((a) => `- ${a.name}: ${a.description}`).join('\n');
}

/** The agents' names as a non-empty tuple (for `z.enum` in a manager's schema). */
export function names(agents: readonly AgentSpec[]): [string, ...string[]] {
  return agents.map((a) => a.name) as [string, ...string[]];
}
