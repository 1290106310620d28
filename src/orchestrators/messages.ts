import type { AgentSpec } from '../core/agent.js';
import type { ChatMessage } from '../core/model.js';
import type { ContextMode } from '../core/run-options.js';
import { type PriorWork, renderPrompt } from './prompt.js';

export type { PriorWork } from './prompt.js';

const SUMMARY_CHARS = 600;

/** Chooses what earlier work an agent sees: all of it, the last piece, or each piece cut to a short summary. */
export function selectContext(prior: readonly PriorWork[], mode: ContextMode): PriorWork[] {
  if (mode === 'last') return prior.slice(-1);
  if (mode === 'summary') {
    return prior.map((p) => ({
      agent: p.agent,
      text: p.text.length > SUMMARY_CHARS ? `${p.text.slice(0, SUMMARY_CHARS)}…` : p.text,
    }));
  }
  return [...prior];
}

/** The agent's instructions as the system message, then the task, earlier work and this turn's instruction. */
export function agentMessages(
  agent: AgentSpec,
  parts: { task: string; prior?: readonly PriorWork[]; instruction?: string },
): ChatMessage[] {
  return [
    { role: 'system', content: agent.instructions },
    { role: 'user', content: renderPrompt(parts) },
  ];
}

/** Renders a run's input as the task text. */
export function renderTask(input: string | Record<string, unknown>): string {
  return typeof input === 'string' ? input : JSON.stringify(input, null, 2);
}
