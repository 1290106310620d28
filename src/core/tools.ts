import type { AgentResult } from './agent.js';
import type { ChatMessage, ToolCall, ToolDefinition } from './model.js';

/** What the GenAI semantic conventions call a tool's type: an API, an extension (MCP), a data store (search). */
export type ToolType = 'function' | 'extension' | 'datastore';

/** How one tool call ended: the text the model is shown, or the failure it is shown instead. */
export type ToolCallSettlement =
  | { ok: true; content: string; attempts: number }
  | { ok: false; error: Error; attempts: number };

export type ToolMessage = Extract<ChatMessage, { role: 'tool' }>;

/**
 * The tool loop of one agent call, as the agent runtime drives it: the agent's own tools, how many model turns may
 * call them, and the journal around each turn and each tool call. The engine implements it (engine/tool-step.ts):
 * a turn that asked for tools is journaled before its tools run, and every tool call is a journaled step, so a
 * replay neither asks the model again nor calls a tool twice.
 */
export interface ToolLoop {
  readonly definitions: readonly ToolDefinition[];
  readonly maxRounds: number;
  /** The model turn of `round` journaled by an earlier attempt (it asked for tools). */
  replayTurn(round: number): AgentResult | undefined;
  /** Journals a model turn that asked for tools, with the model requests it made. */
  recordTurn(round: number, result: AgentResult, requests: number): Promise<void>;
  /** Runs a turn's tool calls (in parallel up to a limit): one tool message per call, in the calls' order. */
  runTools(round: number, calls: readonly ToolCall[]): Promise<ToolMessage[]>;
}
