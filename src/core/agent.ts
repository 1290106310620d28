import type { ChatMessage, ToolCall, ToolDefinition } from './model.js';
import type { OutputSchema } from './output-schema.js';

/**
 * An agent as patterns see it: what it is for (`description`, read by routing managers), its instructions, its
 * output schema and whom it may hand off to. The full definition (model, policies, tools) is the agent runtime's
 * (src/agents/schema.ts); it satisfies this view.
 */
export interface AgentSpec {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly outputSchema?: OutputSchema | undefined;
  readonly handoffs: readonly string[];
}

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
  outputSchema?: OutputSchema;
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

/** Tokens, model requests and cost of one agent call over all its attempts. */
export interface CallSpend {
  usage: { inputTokens: number; outputTokens: number };
  /** Model requests made: one per attempt, two for an attempt that re-asked for a valid structured answer. */
  requests: number;
  costUsd?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** One agent's earlier contribution to a run, as later agents are shown it. */
export interface PriorWork {
  agent: string;
  text: string;
}
