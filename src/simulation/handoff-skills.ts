import type { ChatRequest } from '../core/model.js';
import { TRANSFER_PREFIX as TRANSFER_TOOL_PREFIX } from '../orchestrators/handoff.js';
import { newsSkills } from './news-skills.js';
import { priorJson, type Skill, type SkillOutput } from './skill.js';

/**
 * Handoffs as the simulated model sees them: the orchestrator offers one `transfer_to_<agent>` tool per agent the
 * caller may hand the conversation to, and the model hands off by calling one of them (with a `reason`).
 */

/** The agents this request may transfer to, in the order they are offered. */
export function offeredTransfers(request: ChatRequest): string[] {
  return (request.tools ?? [])
    .filter((t) => t.name.startsWith(TRANSFER_TOOL_PREFIX))
    .map((t) => t.name.slice(TRANSFER_TOOL_PREFIX.length));
}

/** An answer that is a single transfer tool call. */
export function transferTo(agent: string, reason: string): SkillOutput {
  return {
    text: '',
    toolCalls: [
      {
        id: `call_${TRANSFER_TOOL_PREFIX}${agent}`,
        name: `${TRANSFER_TOOL_PREFIX}${agent}`,
        arguments: JSON.stringify({ reason }),
      },
    ],
  };
}

const DESK_ORDER = ['summarizer', 'classifier', 'extractor', 'analyst'] as const;

const DESK_REASONS: Record<(typeof DESK_ORDER)[number], string> = {
  summarizer: 'The report needs a title and a short summary.',
  classifier: 'We need to know whether the article is about business.',
  extractor: 'It is a business article: list the companies it names.',
  analyst: 'Each company needs a stock outlook with a reason.',
};

/**
 * `news.chief` (news-desk under handoff): hands the article to each specialist whose work is not in the
 * conversation yet — summary and classification always, companies and outlooks only for a business article —
 * then writes the final report from the desk's work (as the editor would).
 */
const chiefSkill: Skill = (input) => {
  const { request, prompt } = input;
  const offered = offeredTransfers(request);
  const done = new Set(prompt.prior.map((p) => p.agent));
  const classification = priorJson(prompt, 'classifier');
  const business = typeof classification?.isBusiness === 'boolean' ? classification.isBusiness : true;
  const needed = business ? DESK_ORDER : DESK_ORDER.slice(0, 2);
  const next = needed.find((agent) => !done.has(agent) && offered.includes(agent));
  if (next) return transferTo(next, DESK_REASONS[next]);
  const edit = newsSkills['news.edit'];
  return edit ? edit(input) : { text: '' };
};

export const handoffSkills: Record<string, Skill> = {
  'news.chief': chiefSkill,
};
