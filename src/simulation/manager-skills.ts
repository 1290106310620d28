import type { ParsedPrompt } from '../orchestrators/prompt.js';
import { isBusiness } from './news-heuristics.js';
import { newsSkills } from './news-skills.js';
import { priorJson, type Skill, type SkillOutput } from './skill.js';

/**
 * The magentic manager as the simulated model plays it. One skill answers three kinds of requests, told apart by
 * the structured output asked for: a task ledger (`facts` + `plan`), a progress ledger (the five questions) or
 * the final answer (anything else). Decisions come from the prompt only: the work so far shows which
 * participants have contributed, the schema's enums name the participants still available.
 */
export interface ManagerPlaybook {
  /** Participants whose work the task needs, in the order they should speak (`team`: those available). */
  needed(prompt: ParsedPrompt, team: readonly string[]): string[];
  /** The instruction for a participant. */
  ask(agent: string, prompt: ParsedPrompt): string;
  /** Guesses from the task alone. */
  guesses(prompt: ParsedPrompt): string[];
  /** What the final answer is derived from. */
  derive: string[];
  /** The final answer, in the team's output schema. */
  final: Skill;
}

type JsonSchema = Record<string, unknown>;

function child(schema: unknown, ...path: string[]): JsonSchema | undefined {
  let node: unknown = schema;
  for (const key of path) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as JsonSchema)[key];
  }
  return node && typeof node === 'object' ? (node as JsonSchema) : undefined;
}

function enumAt(schema: unknown, ...path: string[]): string[] {
  const values = child(schema, ...path)?.enum;
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

function short(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface Situation {
  team: string[];
  contributed: Set<string>;
  missing: string[];
}

function situation(playbook: ManagerPlaybook, prompt: ParsedPrompt, team: string[]): Situation {
  const contributed = new Set(prompt.prior.map((p) => p.agent));
  const missing = playbook.needed(prompt, team).filter((a) => !contributed.has(a) && team.includes(a));
  return { team, contributed, missing };
}

function taskLedger(playbook: ManagerPlaybook, prompt: ParsedPrompt, s: Situation): SkillOutput {
  const firstLine = prompt.task.trim().split('\n')[0] ?? '';
  return {
    json: {
      facts: {
        given_or_verified: [
          `The task: ${short(firstLine)}`,
          ...prompt.prior.map((p) => `${p.agent} reported: ${short(p.text)}`),
        ],
        to_look_up: s.missing.map((a) => `${a}: ${playbook.ask(a, prompt)}`),
        to_derive: playbook.derive,
        educated_guesses: playbook.guesses(prompt),
      },
      plan: s.missing.map((agent) => ({ agent, step: playbook.ask(agent, prompt) })),
    },
  };
}

function progressLedger(playbook: ManagerPlaybook, prompt: ParsedPrompt, s: Situation): SkillOutput {
  const counts = new Map<string, number>();
  for (const p of prompt.prior) counts.set(p.agent, (counts.get(p.agent) ?? 0) + 1);
  const repeated = [...counts.entries()].find(([, n]) => n > 1);
  const last = prompt.prior[prompt.prior.length - 1];
  const satisfied = s.missing.length === 0;
  const next = s.missing[0] ?? s.team[0] ?? '';
  return {
    json: {
      is_request_satisfied: {
        reason: satisfied
          ? `Everything the answer needs is in the work so far (${[...s.contributed].join(', ') || 'nothing was needed'}).`
          : `Still missing the work of ${s.missing.join(', ')}.`,
        answer: satisfied,
      },
      is_in_loop: {
        reason: repeated
          ? `${repeated[0]} has answered ${repeated[1]} times.`
          : 'No one has repeated their work.',
        answer: repeated !== undefined,
      },
      is_progress_being_made: {
        reason: repeated
          ? 'The last rounds repeated earlier work.'
          : last
            ? `${last.agent} added new work.`
            : 'The work is starting.',
        answer: repeated === undefined,
      },
      next_speaker: {
        reason: s.missing[0] ? `${next} has not contributed yet.` : `${next} can check the work.`,
        answer: next,
      },
      instruction_or_question: { reason: 'What the plan needs next.', answer: playbook.ask(next, prompt) },
    },
  };
}

/** A group chat's manager choosing the next speaker: whoever's work is still missing; done when none is. */
function speakerChoice(playbook: ManagerPlaybook, prompt: ParsedPrompt, s: Situation): SkillOutput {
  const next = s.missing[0] ?? s.team[0] ?? '';
  return {
    json: {
      done: s.missing.length === 0,
      next_speaker: next,
      reason: s.missing[0]
        ? `${next} has not contributed yet.`
        : 'Every part of the answer is in the conversation.',
      instruction: playbook.ask(next, prompt),
    },
  };
}

export function managerSkill(playbook: ManagerPlaybook): Skill {
  return (input) => {
    const schema = input.request.responseFormat?.schema;
    const properties = child(schema, 'properties');
    if (properties && 'next_speaker' in properties && 'done' in properties) {
      const team = enumAt(properties, 'next_speaker');
      return speakerChoice(playbook, input.prompt, situation(playbook, input.prompt, team));
    }
    if (properties && 'is_request_satisfied' in properties) {
      const team = enumAt(properties, 'next_speaker', 'properties', 'answer');
      return progressLedger(playbook, input.prompt, situation(playbook, input.prompt, team));
    }
    if (properties && 'facts' in properties && 'plan' in properties) {
      const team = enumAt(properties, 'plan', 'items', 'properties', 'agent');
      return taskLedger(playbook, input.prompt, situation(playbook, input.prompt, team));
    }
    return playbook.final(input);
  };
}

const newsAsks: Record<string, string> = {
  summarizer: 'Write the title and a one- or two-sentence summary of the article.',
  classifier: 'Decide whether the article is about business, with a one-sentence reason.',
  extractor: 'List the companies the article names.',
  analyst: 'For each company, predict whether its stock will increase, decrease or stay, with a reason.',
};

function newsBusiness(prompt: ParsedPrompt): boolean {
  const classification = priorJson(prompt, 'classifier');
  return typeof classification?.isBusiness === 'boolean'
    ? classification.isBusiness
    : isBusiness(prompt.task);
}

/** `news.manager`: summary and classification always; companies and outlooks for a business article. */
export const newsManagerPlaybook: ManagerPlaybook = {
  needed: (prompt) =>
    newsBusiness(prompt)
      ? ['summarizer', 'classifier', 'extractor', 'analyst']
      : ['summarizer', 'classifier'],
  ask: (agent) => newsAsks[agent] ?? 'Check the work so far against the article.',
  guesses: (prompt) => [
    isBusiness(prompt.task)
      ? 'The article looks like business news.'
      : 'The article does not look like business news.',
  ],
  derive: ['The final report: title, summary, business or not, and a stock outlook for each company.'],
  final: (input) => newsSkills['news.edit']?.(input) ?? { text: '' },
};

export const managerSkills: Record<string, Skill> = {
  'news.manager': managerSkill(newsManagerPlaybook),
};
