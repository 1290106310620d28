import type { ChatRequest, ToolCall } from '../core/model.js';
import type { ParsedPrompt } from '../orchestrators/prompt.js';

/** How the simulated model plays one kind of agent: a pure function of the request and a seeded random source. */
export type Skill = (input: {
  request: ChatRequest;
  prompt: ParsedPrompt;
  random: () => number;
}) => SkillOutput;

export interface SkillOutput {
  /** Plain text answer; when `json` is given the answer is its JSON text. */
  text?: string;
  json?: unknown;
  toolCalls?: ToolCall[];
}

/**
 * Every piece of earlier work by `agent` — or by its per-item runs in a map (`agent[0]`, `agent[1]`, …) — parsed
 * as JSON objects, in prompt order.
 */
export function priorJsonAll(prompt: ParsedPrompt, agent: string): Record<string, unknown>[] {
  const mine = (name: string) => name === agent || /^\[\d+\]$/.test(name.slice(agent.length));
  return prompt.prior.flatMap((p) => {
    if (!p.agent.startsWith(agent) || !mine(p.agent)) return [];
    try {
      const value: unknown = JSON.parse(p.text);
      return value && typeof value === 'object' && !Array.isArray(value)
        ? [value as Record<string, unknown>]
        : [];
    } catch {
      return [];
    }
  });
}

/** The earlier work of `agent` in the prompt, parsed as JSON when it is JSON. */
export function priorJson(prompt: ParsedPrompt, agent: string): Record<string, unknown> | undefined {
  const entry = [...prompt.prior].reverse().find((p) => p.agent === agent);
  if (!entry) return undefined;
  try {
    const value: unknown = JSON.parse(entry.text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
