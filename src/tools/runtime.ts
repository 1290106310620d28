import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
} from 'cockatiel';
import { ToolError } from '../core/errors.js';
import type { ToolDefinition } from '../core/model.js';
import { compileJsonSchema, type OutputSchema } from '../core/output-schema.js';
import type { ToolCallSettlement, ToolType } from '../core/tools.js';
import { withTimeout } from '../policies/attempt-timeout.js';
import { callHttpTool, type ToolAttempt, truncated } from './http.js';
import { type CallableToolDeclaration, isIdempotent, type ToolDeclaration } from './schema.js';

/** One tool an agent may call, ready to run: what the model is shown and how one attempt is made. */
export interface ExecutableTool {
  readonly definition: ToolDefinition;
  readonly type: ToolType;
  readonly idempotent: boolean;
  readonly declaration: CallableToolDeclaration;
  /** One attempt with validated arguments; throws `ToolError` (or the abort reason). */
  attempt(args: Record<string, unknown>, attempt: ToolAttempt): Promise<string>;
}

/** Where a kind of tool comes from: the tools one declaration gives (an MCP server gives several). */
export type ToolSource = (declaration: CallableToolDeclaration, team: string) => Promise<ExecutableTool[]>;

export interface ToolRuntimeDeps {
  /** `${env:NAME}` values the operator allows (BATON_TOOL_SECRETS). */
  secrets: ReadonlyMap<string, string>;
  /** Longest tool result the model is shown (BATON_TOOL_RESULT_MAX_CHARS). */
  maxResultChars: number;
  /** MCP servers and search indexes (the HTTP kind needs nothing beyond the declaration). */
  sources?: Partial<Record<'mcp' | 'search', ToolSource>>;
  /** Releases what the sources hold (MCP clients and the servers they started). */
  close?: () => Promise<void>;
}

/** The team a tool belongs to: its name and declarations (a team definition satisfies it). */
export interface ToolTeam {
  readonly name: string;
  readonly tools?: readonly ToolDeclaration[] | undefined;
  /** The team's default time a request for a person waits (approvals of its tools' calls). */
  readonly approvalTimeoutMs?: number | undefined;
}

const isRetryable = (e: unknown) => e instanceof ToolError && e.retryable;
const countsAgainstBreaker = (e: unknown) => e instanceof ToolError && e.code !== 'TOOL_ARGUMENTS_INVALID';

/**
 * Tools of a worker: resolves the tools an agent names and runs one call under the tool's policies, outermost
 * first — argument validation against its JSON Schema (a bad call goes back to the model, nothing is sent) →
 * circuit breaker (per team and tool, per process) → retry with backoff (idempotent tools only) → per-attempt
 * timeout, which aborts the request → the call. The run's signal aborts it all.
 */
export class ToolRuntime {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  constructor(private readonly deps: ToolRuntimeDeps) {}

  /** Closes MCP clients (stopping stdio servers) when the worker stops. */
  async close(): Promise<void> {
    await this.deps.close?.();
  }

  /** The tools `refs` name among the team's declarations (an MCP server by name: all its allowed tools). */
  async toolsFor(team: ToolTeam, refs: readonly string[]): Promise<ExecutableTool[]> {
    const out: ExecutableTool[] = [];
    for (const ref of refs) {
      const [source, inner] = ref.split('__');
      const declaration = team.tools?.find((t) => t.name === source);
      // A `kind: human` tool is the engine's (ask_human), not a call this runtime makes.
      if (!declaration || declaration.kind === 'human') continue;
      const all = await this.expand(declaration, team.name);
      out.push(...(inner === undefined ? all : all.filter((t) => t.definition.name === ref)));
    }
    return out;
  }

  private async expand(declaration: CallableToolDeclaration, team: string): Promise<ExecutableTool[]> {
    if (declaration.kind === 'http') return [this.httpTool(declaration)];
    const source = this.deps.sources?.[declaration.kind];
    if (!source) {
      throw new ToolError(
        'TOOL_UNAVAILABLE',
        `Tools of kind ${declaration.kind} are not set up in this worker.`,
        false,
      );
    }
    return source(declaration, team);
  }

  private httpTool(declaration: Extract<ToolDeclaration, { kind: 'http' }>): ExecutableTool {
    const deps = { secrets: this.deps.secrets, maxResultChars: this.deps.maxResultChars };
    return {
      definition: {
        name: declaration.name,
        description: declaration.description,
        parameters: declaration.parameters,
      },
      type: 'function',
      idempotent: isIdempotent(declaration),
      declaration,
      attempt: (args, attempt) => callHttpTool(declaration, args, attempt, deps),
    };
  }

  /** One call of `tool` with the model's JSON arguments, settled (never throws but for the run's abort). */
  async execute(
    team: string,
    tool: ExecutableTool,
    argumentsText: string,
    call: { signal: AbortSignal; idempotencyKey: string },
  ): Promise<ToolCallSettlement> {
    let attempts = 0;
    try {
      const args = parseArguments(tool, argumentsText);
      const { declaration } = tool;
      const breaker = this.breakerFor(team, tool);
      const retryPolicy = retry(handleWhen(isRetryable), {
        maxAttempts: tool.idempotent ? declaration.retry.maxAttempts - 1 : 0,
        backoff: new ExponentialBackoff({
          initialDelay: declaration.retry.initialDelayMs,
          maxDelay: declaration.retry.maxDelayMs,
        }),
      });
      const content = await breaker.execute(() =>
        retryPolicy.execute(() => {
          attempts++;
          return this.withTimeout(tool, args, call);
        }, call.signal),
      );
      return { ok: true, content: truncated(content, this.deps.maxResultChars), attempts };
    } catch (raw) {
      if (call.signal.aborted) throw call.signal.reason;
      const error =
        raw instanceof BrokenCircuitError
          ? new ToolError(
              'TOOL_UNAVAILABLE',
              `Tool "${tool.definition.name}" is unavailable: its circuit breaker is open.`,
              false,
            )
          : raw instanceof ToolError
            ? raw
            : new ToolError('TOOL_FAILED', `Tool "${tool.definition.name}" failed: ${messageOf(raw)}`, true);
      return { ok: false, error, attempts };
    }
  }

  private async withTimeout(
    tool: ExecutableTool,
    args: Record<string, unknown>,
    call: { signal: AbortSignal; idempotencyKey: string },
  ): Promise<string> {
    const ms = tool.declaration.timeoutMs;
    const timedOut = () =>
      new ToolError('TOOL_TIMEOUT', `Tool "${tool.definition.name}" did not answer within ${ms} ms.`, true, {
        timeoutMs: ms,
      });
    try {
      return await withTimeout(ms, call.signal, timedOut, (attempt) =>
        tool.attempt(args, { signal: attempt.signal, idempotencyKey: call.idempotencyKey }),
      );
    } catch (raw) {
      if (raw instanceof ToolError || call.signal.aborted) throw raw;
      // A connection refused or reset: the tool may be back on the next attempt.
      throw new ToolError('TOOL_FAILED', `Tool "${tool.definition.name}" failed: ${messageOf(raw)}`, true);
    }
  }

  private breakerFor(team: string, tool: ExecutableTool): CircuitBreakerPolicy {
    const key = JSON.stringify([team, tool.definition.name]);
    const existing = this.breakers.get(key);
    if (existing) return existing;
    const { failureThreshold, halfOpenAfterMs } = tool.declaration.breaker;
    const breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
      halfOpenAfter: halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(failureThreshold),
    });
    this.breakers.set(key, breaker);
    return breaker;
  }
}

function messageOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err instanceof Error ? `${err.message}${cause}` : String(err);
}

const parameterSchemas = new WeakMap<object, OutputSchema>();

/** The model's arguments as an object that satisfies the tool's JSON Schema, or a `TOOL_ARGUMENTS_INVALID`. */
function parseArguments(tool: ExecutableTool, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ToolError('TOOL_ARGUMENTS_INVALID', 'The arguments are not JSON.', false);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ToolError('TOOL_ARGUMENTS_INVALID', 'The arguments must be a JSON object.', false);
  }
  const parameters = tool.definition.parameters;
  let schema = parameterSchemas.get(parameters);
  if (!schema) {
    const compiled = compileJsonSchema(parameters);
    if (!compiled.ok) {
      throw new ToolError(
        'TOOL_FAILED',
        `The tool's parameters are not a usable JSON Schema: ${compiled.problem.message}`,
        false,
      );
    }
    schema = compiled.schema;
    parameterSchemas.set(parameters, schema);
  }
  const checked = schema.check(value);
  if (!checked.ok) {
    throw new ToolError(
      'TOOL_ARGUMENTS_INVALID',
      `The arguments do not match the tool's parameters: ${checked.problem}`,
      false,
    );
  }
  return value as Record<string, unknown>;
}
