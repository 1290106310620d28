import type { AgentDefinition } from '../agents/schema.js';
import type { ChatMessage } from '../models/types.js';
import type { RunOptions } from '../runs/schema.js';

/**
 * The one message layout every pattern uses: the agent's instructions as the system message, then a user
 * message with the task, the work so far (per `options.context`) and an optional instruction for this turn.
 * Keeping one layout makes prompts comparable across patterns, and lets the simulated model read them back.
 */

export interface PriorWork {
  agent: string;
  text: string;
}

const TASK = '# Task';
const WORK = '# Work so far';
const INSTRUCTION = '# Instruction';
const SUMMARY_CHARS = 600;

/** Chooses what earlier work an agent sees: all of it, the last piece, or each piece cut to a short summary. */
export function selectContext(prior: readonly PriorWork[], mode: NonNullable<RunOptions['context']>): PriorWork[] {
  if (mode === 'last') return prior.slice(-1);
  if (mode === 'summary') {
    return prior.map((p) => ({
      agent: p.agent,
      text: p.text.length > SUMMARY_CHARS ? `${p.text.slice(0, SUMMARY_CHARS)}…` : p.text,
    }));
  }
  return [...prior];
}

export function agentMessages(
  agent: AgentDefinition,
  parts: { task: string; prior?: readonly PriorWork[]; instruction?: string },
): ChatMessage[] {
  const sections = [`${TASK}\n${parts.task}`];
  if (parts.prior && parts.prior.length > 0) {
    sections.push(`${WORK}\n${parts.prior.map((p) => `## ${p.agent}\n${p.text}`).join('\n\n')}`);
  }
  if (parts.instruction) sections.push(`${INSTRUCTION}\n${parts.instruction}`);
  return [
    { role: 'system', content: agent.instructions },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

export interface ParsedPrompt {
  task: string;
  prior: PriorWork[];
  instruction: string | undefined;
}

/** Reads back a user message written by `agentMessages` (the simulated model uses this). */
export function parsePrompt(messages: readonly ChatMessage[]): ParsedPrompt {
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const section = (title: string): string | undefined => {
    const start = user.indexOf(`${title}\n`);
    if (start < 0) return undefined;
    const from = start + title.length + 1;
    const next = [TASK, WORK, INSTRUCTION]
      .filter((t) => t !== title)
      .map((t) => user.indexOf(`\n\n${t}\n`, from))
      .filter((i) => i >= 0);
    return user.slice(from, next.length ? Math.min(...next) : undefined);
  };
  const task = section(TASK) ?? user;
  const work = section(WORK) ?? '';
  const prior: PriorWork[] = [];
  for (const chunk of work.split(/\n\n(?=## )/)) {
    const m = /^## ([^\n]+)\n([\s\S]*)$/.exec(chunk.trim());
    if (m?.[1] && m[2] !== undefined) prior.push({ agent: m[1], text: m[2] });
  }
  return { task, prior, instruction: section(INSTRUCTION) };
}

/** Renders a run's input as the task text. */
export function renderTask(input: string | Record<string, unknown>): string {
  return typeof input === 'string' ? input : JSON.stringify(input, null, 2);
}
