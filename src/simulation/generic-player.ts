import { PermanentModelError } from '../core/errors.js';
import type { ChatRequest } from '../core/model.js';
import { HANDED_OVER, TRANSFER_NOTE_PREFIX, TRANSFER_PREFIX } from '../orchestrators/handoff.js';
import type { ParsedPrompt } from '../orchestrators/prompt.js';
import { offeredTransfers, transferTo } from './handoff-skills.js';
import { type ManagerPlaybook, managerSkill } from './manager-skills.js';
import { isObject } from './schema-check.js';
import { schemaInstance, UnsupportedSchemaError } from './schema-instance.js';
import type { Skill, SkillOutput } from './skill.js';
import { type TextSource, textSource } from './text-source.js';

/**
 * How the simulated model plays an agent it has no skill for — any agent of a team it has never seen. Every
 * answer is a deterministic function of the request (same seed and input → same answer) that depends on the task:
 *
 * - offered `transfer_to_<agent>` tools (a handoff turn): an agent just handed the conversation does its own
 *   work; otherwise it hands over to the first offered agent whose work is not in the conversation yet, and
 *   answers once every offered agent has answered;
 * - asked for a magentic task or progress ledger: plans one step per participant named in the schema's enums,
 *   sends the participants that have not spoken yet in turn, and is satisfied once each has contributed;
 * - asked for structured output: a value of the requested JSON Schema, read from the task (`schemaInstance`);
 * - otherwise: a short text drawn from the task.
 */

/** The source of one request's values: its task, keyed by seed and agent so agents differ on one task. */
function sourceFor(request: ChatRequest, prompt: ParsedPrompt): TextSource {
  return textSource(prompt.task, `${request.seed}:${request.agent}`);
}

/** Agents whose answers (not hand-over notes) are in the conversation. */
function answeredBy(prompt: ParsedPrompt): Set<string> {
  return new Set(prompt.prior.filter((p) => !p.text.startsWith(TRANSFER_NOTE_PREFIX)).map((p) => p.agent));
}

function short(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/** A few sentences' worth of text from the task: one sentence picked by the hash, and the names it carries. */
export function plainAnswer(request: ChatRequest, prompt: ParsedPrompt): string {
  const source = sourceFor(request, prompt);
  const { sentences, names, words } = source;
  if (sentences.length === 0) return 'There is nothing in the task to work from yet.';
  const pick = sentences[source.choose('text|sentence', sentences.length)] as string;
  const named = names.filter((n) => !pick.includes(n)).slice(0, 3);
  const keywords = words.filter((w) => !pick.toLowerCase().includes(w));
  const focus = keywords.length > 0 ? keywords[source.choose('text|word', keywords.length)] : undefined;
  const parts = [short(pick, 220)];
  if (named.length > 0) parts.push(`It also concerns ${named.join(', ')}.`);
  else if (focus) parts.push(`The key point is ${focus}.`);
  if (prompt.prior.length > 0) {
    const others = [...answeredBy(prompt)].filter((a) => a !== request.agent);
    if (others.length > 0) parts.push(`This builds on the work of ${others.join(', ')}.`);
  }
  return parts.join(' ');
}

/** A structured answer in the requested schema, or text when there is none. */
function answer(request: ChatRequest, prompt: ParsedPrompt): SkillOutput {
  const schema = request.responseFormat?.schema;
  if (!schema) return { text: plainAnswer(request, prompt) };
  try {
    return { json: schemaInstance(schema, sourceFor(request, prompt)) };
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) {
      throw new PermanentModelError(
        `The simulated model cannot answer in the schema of agent "${request.agent}": ${err.message}`,
      );
    }
    throw err;
  }
}

/**
 * A handoff turn: a transfer, or `undefined` when the agent should answer. An agent that was just handed the
 * conversation answers before it hands over again, so every transfer reaches an agent that adds work and the
 * conversation ends.
 */
function handoffDecision(request: ChatRequest, prompt: ParsedPrompt): SkillOutput | undefined {
  const offered = offeredTransfers(request);
  if (offered.length === 0) return undefined;
  const answered = answeredBy(prompt);
  const handedToMe = prompt.instruction?.includes(HANDED_OVER) === true;
  if (handedToMe && !answered.has(request.agent)) return undefined;
  const next = offered.find((agent) => !answered.has(agent));
  if (!next) return undefined;
  const description = request.tools
    ?.find((t) => t.name === `${TRANSFER_PREFIX}${next}`)
    ?.description.replace(/^Hand the conversation to [^:]+:\s*/, '');
  return transferTo(
    next,
    `Their part is not in the conversation yet${description ? `: ${description}` : '.'}`,
  );
}

/** The magentic manager of a team it has never seen: every participant the schema names, in order, once. */
const genericPlaybook: ManagerPlaybook = {
  needed: (_prompt, team) => [...team],
  ask: (agent, prompt) => {
    const first = prompt.task.trim().split(/\n|(?<=[.!?])\s/)[0] ?? '';
    return `${agent}: add your part of the work on "${short(first, 90)}", building on the work so far.`;
  },
  guesses: (prompt) => {
    const source = textSource(prompt.task, 'manager');
    const sentence = source.sentences[source.choose('guess', source.sentences.length || 1)];
    return sentence ? [`The heart of the task: ${short(sentence, 160)}`] : [];
  },
  derive: ['The final answer, combining every participant’s contribution.'],
  final: ({ request, prompt }) => answer(request, prompt),
};
const genericManager = managerSkill(genericPlaybook);

/** Whether the requested schema is a magentic ledger (task: `facts` + `plan`; progress: the five questions). */
function isLedger(schema: Record<string, unknown> | undefined): boolean {
  const properties = schema && isObject(schema.properties) ? schema.properties : undefined;
  if (!properties) return false;
  return (
    ('facts' in properties && 'plan' in properties) ||
    ('is_request_satisfied' in properties && 'next_speaker' in properties)
  );
}

export const genericSkill: Skill = (input) => {
  const { request, prompt } = input;
  const transfer = handoffDecision(request, prompt);
  if (transfer) return transfer;
  if (isLedger(request.responseFormat?.schema)) return genericManager(input);
  return answer(request, prompt);
};
