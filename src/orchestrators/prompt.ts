/**
 * The layout of the user message every pattern sends: a task, the work so far (one `## agent` block each) and an
 * optional instruction for this turn. Orchestrators write it (orchestrators/messages.ts); the simulated model
 * reads it back. One layout keeps prompts comparable across patterns.
 */
import type { PriorWork } from '../core/agent.js';
import type { ChatMessage } from '../core/model.js';

export const TASK_HEADING = '# Task';
export const WORK_HEADING = '# Work so far';
export const INSTRUCTION_HEADING = '# Instruction';

export function renderPrompt(parts: {
  task: string;
  prior?: readonly PriorWork[];
  instruction?: string;
}): string {
  const sections = [`${TASK_HEADING}\n${parts.task}`];
  if (parts.prior && parts.prior.length > 0) {
    sections.push(`${WORK_HEADING}\n${parts.prior.map((p) => `## ${p.agent}\n${p.text}`).join('\n\n')}`);
  }
  if (parts.instruction) sections.push(`${INSTRUCTION_HEADING}\n${parts.instruction}`);
  return sections.join('\n\n');
}

export interface ParsedPrompt {
  task: string;
  prior: PriorWork[];
  instruction: string | undefined;
}

/** Reads back the last user message written by `renderPrompt`. */
export function parsePrompt(messages: readonly ChatMessage[]): ParsedPrompt {
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const headings = [TASK_HEADING, WORK_HEADING, INSTRUCTION_HEADING];
  const section = (title: string): string | undefined => {
    const start = user.startsWith(`${title}\n`) ? 0 : user.indexOf(`\n\n${title}\n`);
    if (start < 0) return undefined;
    const from = user.indexOf('\n', start === 0 ? 0 : start + 2) + 1;
    const ends = headings
      .filter((t) => t !== title)
      .map((t) => user.indexOf(`\n\n${t}\n`, from))
      .filter((i) => i >= 0);
    return user.slice(from, ends.length ? Math.min(...ends) : undefined);
  };
  const prior: PriorWork[] = [];
  for (const chunk of (section(WORK_HEADING) ?? '').split(/\n\n(?=## )/)) {
    const m = /^## ([^\n]+)\n([\s\S]*)$/.exec(chunk.trim());
    if (m?.[1] && m[2] !== undefined) prior.push({ agent: m[1], text: m[2] });
  }
  return { task: section(TASK_HEADING) ?? user, prior, instruction: section(INSTRUCTION_HEADING) };
}
