import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AgentDefinition, TeamDefinition } from '../agents/schema.js';
import type { ChatMessage, ToolCall, ToolDefinition } from '../models/types.js';
import type { Pattern, ResolvedRunOptions, RunEventInput, RunOutput, RunUsage } from '../runs/schema.js';

/** One agent call as an orchestrator asks for it. `key` is the journal key: deterministic per run. */
export interface AgentCall {
  key: string;
  agent: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: 'auto' | 'none' | 'required';
  parallelToolCalls?: boolean;
  /** Ask for the agent's `outputSchema` as structured output (default: when the agent declares one). */
  structured?: boolean;
  /**
   * Ask for this schema as structured output instead of the agent's own `outputSchema` (magentic ledgers, a
   * final answer in the team's output schema). Wins over `structured`.
   */
  outputSchema?: z.ZodType;
}

/** What an agent call returned, as recorded in the journal (so a replay returns exactly this). */
export interface AgentResult {
  key: string;
  agent: string;
  text: string;
  /** The parsed, schema-validated JSON answer when the agent has an output schema. */
  structured?: unknown;
  toolCalls: ToolCall[];
  usage: { inputTokens: number; outputTokens: number };
  attempts: number;
  durationMs: number;
  model: string;
  costUsd?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BudgetView {
  readonly maxTokens: number | undefined;
  readonly maxModelCalls: number | undefined;
  /** Usage of the run so far, replayed steps included. */
  usage(): RunUsage;
}

/**
 * Everything an orchestrator may touch. All I/O comes through here so a pattern runs the same in a worker, an
 * eval, a benchmark and an in-process unit test.
 */
export interface RunContext {
  readonly runId: string;
  readonly pattern: Pattern;
  readonly team: TeamDefinition;
  /** The task as text (JSON objects are rendered as pretty JSON). */
  readonly input: string;
  readonly options: ResolvedRunOptions;
  /** Aborted on cancel, deadline or worker shutdown. */
  readonly signal: AbortSignal;
  readonly budget: BudgetView;
  readonly log: Logger;
  agent(name: string): AgentDefinition;
  /**
   * Calls an agent through the runtime policies, journaled under `call.key`. Throws `AgentFailedError` when the
   * agent ultimately fails (also replayed), `BudgetExceededError`, or the run's cancel/deadline/interrupt error.
   */
  callAgent(call: AgentCall): Promise<AgentResult>;
  /** Runs `fn` once per run and journals its JSON result under `key`; later attempts replay it. */
  step<T>(key: string, fn: () => Promise<T>): Promise<T>;
  emit(event: RunEventInput): Promise<void>;
  /** Breaker state of an agent in this process (patterns route around open breakers). */
  breakerState(agent: string): BreakerState;
  /** Seeded by `options.seed` and the run id; deterministic across replays. */
  random(): number;
  now(): number;
}

export interface RunResult {
  output: RunOutput;
  /** True when the run succeeded with degraded output (failed branches, budget stop, loop stop). */
  partial?: boolean;
  failedAgents?: string[];
  /** Pattern-specific result kept in the run record, e.g. magentic's final ledgers. */
  details?: Record<string, unknown>;
}

export interface Orchestrator {
  readonly pattern: Pattern;
  /** Throws `InvalidRunError` when the team is not wired for this pattern. */
  run(ctx: RunContext): Promise<RunResult>;
}
