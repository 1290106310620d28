import type { AgentResult, CallSpend } from './agent.js';
import type { ChatMessage, ChatResult, ModelProvider } from './model.js';
import type { RunOutcome } from './run.js';
import type { ToolCallSettlement, ToolType } from './tools.js';

/**
 * Where observability attaches. The engine and the agent runtime call these hooks around the work they do and
 * know nothing of spans or metrics; src/telemetry/ implements them (spans, metrics, log context), tests may
 * record them, and `noHooks` does nothing. Each hook wraps `next` and returns what it returns, the way an
 * interceptor does.
 */

export interface RunInfo {
  runId: string;
  pattern: string;
  team: string;
  /** The team variant the run executes (`base` without one). */
  variant: string;
  /** 1 on the first execution; more after a crash, a retried job or a hand-over. */
  attempt: number;
  /** The run continues earlier work: a later attempt, or journaled steps to replay. */
  resumed: boolean;
}

/** How one agent call through the runtime ended. */
export type AgentCallOutcome =
  | 'success'
  | 'error'
  | 'timeout'
  | 'circuit_open'
  | 'budget_exceeded'
  | 'cancelled'
  | 'replayed';

/** What the runtime's `invoke` resolves to: the result, or why the call failed and what it spent trying. */
export type AgentCallSettlement =
  | {
      ok: true;
      result: AgentResult /** Model requests made (retries and corrective re-asks included). */;
      requests: number;
    }
  | {
      ok: false;
      error: Error;
      outcome: Exclude<AgentCallOutcome, 'success' | 'replayed'>;
      attempts: number;
      spent: CallSpend;
    };

export interface AgentCallInfo {
  agent: string;
  description: string;
  /** The journal key of the step. */
  key: string;
}

export interface ModelCallInfo {
  agent: string;
  provider: ModelProvider;
  /** The deployment, Foundry agent or provider the request names. */
  requestedModel: string;
  /** 1-based attempt of the agent call this request belongs to. */
  attempt: number;
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
  messages: readonly ChatMessage[];
}

export interface ToolCallInfo {
  tool: string;
  type: ToolType;
  /** The model's id of the call. */
  callId: string;
  agent: string;
  /** The journal key of the step. */
  key: string;
}

export interface EngineHooks {
  /** Around one execution of a run: the outcome it returns (or the error it throws) ends it. */
  run(info: RunInfo, next: () => Promise<RunOutcome>): Promise<RunOutcome>;
  /** Around a pattern step (`ctx.step`) that is not replayed. */
  step<T>(key: string, next: () => Promise<T>): Promise<T>;
  /** Around a journaled agent call that is not replayed. */
  agentStep<T>(agent: string, next: () => Promise<T>): Promise<T>;
  /** A journaled agent call answered from the journal. */
  agentReplayed(agent: string): void;
  /** Around one tool call that is not replayed (all its attempts). */
  executeTool(info: ToolCallInfo, next: () => Promise<ToolCallSettlement>): Promise<ToolCallSettlement>;
}

export interface RuntimeHooks {
  /** Around one agent call (all its attempts). */
  invokeAgent(info: AgentCallInfo, next: () => Promise<AgentCallSettlement>): Promise<AgentCallSettlement>;
  /** Around one model request (one attempt). */
  modelCall(info: ModelCallInfo, next: () => Promise<ChatResult>): Promise<ChatResult>;
}

export const noEngineHooks: EngineHooks = {
  run: (_info, next) => next(),
  step: (_key, next) => next(),
  agentStep: (_agent, next) => next(),
  agentReplayed: () => {},
  executeTool: (_info, next) => next(),
};

export const noRuntimeHooks: RuntimeHooks = {
  invokeAgent: (_info, next) => next(),
  modelCall: (_info, next) => next(),
};

/** One guardrail check: which guardrail, at which stage, for which agent call. Never the content checked. */
export interface GuardrailCheckInfo {
  guardrail: string;
  stage: 'input' | 'output';
  agent: string;
  /** The journal key of the agent call. */
  step: string;
}

export type GuardrailOutcome = 'pass' | 'transform' | 'block' | 'reask';

/** Where observability attaches to guardrails: a span per check and a metric per outcome (src/telemetry/). */
export interface GuardrailHooks {
  check<T extends { outcome: GuardrailOutcome }>(
    info: GuardrailCheckInfo,
    next: () => Promise<T>,
  ): Promise<T>;
}

export const noGuardrailHooks: GuardrailHooks = { check: (_info, next) => next() };
