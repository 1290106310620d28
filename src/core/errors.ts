import type { PendingInput } from './run.js';
/**
 * Typed errors with a stable `code`. Model providers throw the `Model*` family; the agent runtime's policies
 * decide on retry and breaker by class, and orchestrators and the API map `code` to outcomes and statuses.
 */
export class BatonError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** Base for errors raised by a model provider. `retryable` drives the retry policy. */
export abstract class ModelError extends BatonError {
  abstract readonly retryable: boolean;
}

/** The provider throttled us (HTTP 429); wait `retryAfterMs` before the next attempt. */
export class RateLimitedError extends ModelError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    details?: Record<string, unknown>,
  ) {
    super('MODEL_RATE_LIMITED', message, details);
  }
}

/** A failure worth retrying: 408/409/5xx, connection resets, a simulated transient fault. */
export class TransientModelError extends ModelError {
  readonly retryable = true;
  constructor(message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('MODEL_TRANSIENT', message, details, options);
  }
}

/** A failure that will not go away by retrying: other 4xx, bad credentials, schema mismatch. */
export class PermanentModelError extends ModelError {
  readonly retryable = false;
  constructor(message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('MODEL_PERMANENT', message, details, options);
  }
}

/**
 * The model a call names cannot be used as configured: its provider has no settings, no deployment is named or
 * configured, or the operator does not allow it. No retry fixes it, and it says nothing about a model's health.
 */
export class ModelConfigurationError extends ModelError {
  readonly retryable = false;
  constructor(
    code: 'MODEL_NOT_CONFIGURED' | 'MODEL_NOT_ALLOWED',
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

/** The provider's content filter refused the prompt or the completion. */
export class ContentFilteredError extends ModelError {
  readonly retryable = false;
  constructor(message: string, details?: Record<string, unknown>) {
    super('MODEL_CONTENT_FILTERED', message, details);
  }
}

/** The model answered, but not with JSON that satisfies the agent's output schema. */
export class OutputInvalidError extends ModelError {
  readonly retryable = false;
  constructor(agent: string, problem: string, raw: string) {
    super('MODEL_OUTPUT_INVALID', `Agent "${agent}" answered with invalid structured output: ${problem}`, {
      agent,
      raw: raw.slice(0, 4_000),
    });
  }
}

/** One attempt exceeded the agent's `policy.timeoutMs`; the model request was aborted. */
export class AgentTimeoutError extends ModelError {
  readonly retryable = true;
  constructor(agent: string, timeoutMs: number) {
    super('AGENT_TIMEOUT', `Agent "${agent}" did not answer within ${timeoutMs} ms.`, { agent, timeoutMs });
  }
}

/** The agent's circuit breaker is open: the call was refused without reaching the model. */
export class CircuitOpenError extends BatonError {
  constructor(agent: string) {
    super('CIRCUIT_OPEN', `Agent "${agent}" is unavailable: its circuit breaker is open.`, { agent });
  }
}

/** A run budget (tokens, model calls) would be exceeded by the next model call. */
export class BudgetExceededError extends BatonError {
  constructor(budget: 'tokens' | 'modelCalls', limit: number, used: number) {
    super('BUDGET_EXCEEDED', `The run's ${budget} budget of ${limit} is spent (${used} used).`, {
      budget,
      limit,
      used,
    });
  }
}

/** The run's deadline (`options.deadlineMs`) passed. */
export class DeadlineExceededError extends BatonError {
  constructor(deadlineMs: number) {
    super('DEADLINE_EXCEEDED', `The run did not finish within its ${deadlineMs} ms deadline.`, {
      deadlineMs,
    });
  }
}

/** The run was cancelled by a client or operator. */
export class RunCancelledError extends BatonError {
  constructor() {
    super('RUN_CANCELLED', 'The run was cancelled.');
  }
}

/** The worker is shutting down: the run stops at a step boundary and is handed to another worker. */
export class RunInterruptedError extends BatonError {
  constructor(
    code = 'RUN_INTERRUPTED',
    message = 'The worker is shutting down; the run will resume on another worker.',
  ) {
    super(code, message);
  }
}

/**
 * The run needs a person's input: it stops here and waits, holding no worker, until an answer (or an expiry)
 * arrives; then it resumes on any worker by replaying its journal. `requests` are the open requests this
 * execution reached; `wakeAt` is when the run must look again without an answer (the earliest expiry, or the
 * run's deadline).
 */
export class RunWaitingError extends RunInterruptedError {
  constructor(
    readonly requests: readonly PendingInput[],
    readonly wakeAt: number,
  ) {
    super('RUN_WAITING', 'The run is waiting for human input.');
  }
}

/**
 * This attempt at the run is no longer the current one: its job's lock was lost and the job was delivered again.
 * The attempt stops without writing anything more (a hand-over, not a failure); the newer one owns the run.
 */
export class AttemptSupersededError extends RunInterruptedError {
  constructor(reason = 'a newer attempt owns the run') {
    super('RUN_SUPERSEDED', `This attempt at the run stopped: ${reason}.`);
  }
}

/**
 * A guardrail refused what an agent call would send to a model, or what it answered. The error names the
 * guardrail, the stage and the kinds of finding, never the content that triggered it.
 */
export class GuardrailBlockedError extends BatonError {
  constructor(
    guardrail: string,
    stage: 'input' | 'output',
    agent: string,
    reason: string,
    /** How many values of each kind a check found (never the values). */
    findings?: Record<string, number>,
  ) {
    super(
      'GUARDRAIL_BLOCKED',
      `Guardrail "${guardrail}" blocked the ${stage} of agent "${agent}": ${reason}.`,
      {
        guardrail,
        stage,
        agent,
        reason,
        ...(findings ? { findings } : {}),
      },
    );
  }
}

/** An agent ultimately failed (after its policies) and the pattern had no way around it. */
export class AgentFailedError extends BatonError {
  constructor(agent: string, cause: BatonError | Error) {
    const inner = cause instanceof BatonError ? cause.toJSON() : { code: 'INTERNAL', message: cause.message };
    super('AGENT_FAILED', `Agent "${agent}" failed: ${inner.message}`, { agent, cause: inner });
  }
}

/**
 * A tool call failed: bad arguments from the model, a timeout, an error answer, an open breaker, a dead server.
 * The model is shown it as the tool's result; `retryable` failures of idempotent tools are retried first.
 */
export class ToolError extends BatonError {
  constructor(
    code:
      | 'TOOL_ARGUMENTS_INVALID'
      | 'TOOL_TIMEOUT'
      | 'TOOL_HTTP_ERROR'
      | 'TOOL_UNAVAILABLE'
      | 'TOOL_FAILED'
      | 'TOOL_NOT_ALLOWED',
    message: string,
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

/**
 * A non-idempotent tool call was in flight when its worker died: it may or may not have taken effect, so it is
 * not sent again and the run fails naming the call.
 */
export class ToolOutcomeUnknownError extends BatonError {
  constructor(details: { tool: string; agent: string; step: string; callId: string }) {
    super(
      'TOOL_OUTCOME_UNKNOWN',
      `The call of tool "${details.tool}" by agent "${details.agent}" (step ${details.step}) was in flight when its worker stopped; the tool is not idempotent, so it was not sent again.`,
      details,
    );
  }
}

/** A team, agent or option does not fit the chosen pattern. */
export class InvalidRunError extends BatonError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVALID_RUN', message, details);
  }
}

/** Any error as the `{ code, message, details? }` shape stored in run records and events. */
export function toErrorInfo(err: unknown): {
  code: string;
  message: string;
  details?: Record<string, unknown>;
} {
  if (err instanceof BatonError) return err.toJSON();
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

/**
 * Why a request about a run (or a team) was refused; the API answers 400, 404, 409, 429 or 503 for these. A
 * `limited` refusal carries `retryAfterSeconds` in its details.
 */
export type Refusal = 'invalid' | 'not-found' | 'conflict' | 'limited' | 'unavailable';

/** A request refused for a reason its caller can act on (an unknown team, a finished run, a queue outage). */
export class RefusedError extends BatonError {
  constructor(
    readonly refusal: Refusal,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}
