import type { AgentSpec, PriorWork } from '../core/agent.js';
import type { ChatMessage } from '../core/model.js';
import { renderPrompt } from './prompt.js';

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
