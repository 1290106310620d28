import type { Skill } from './skill.js';

/**
 * `eval.judge`: the simulated model as an LLM judge (evals/scorers/judge.ts). It reads the `<input>` and
 * `<output>` blocks of the rubric prompt and answers the rubric's strict JSON verdict from surface heuristics:
 *
 * - faithfulness: the share of the output's content words (4+ letters) that occur in the input;
 * - coverage: the share of the input's capitalised names that occur in the output;
 * - concision: the output's length relative to the input's (a summary a third as long or shorter scores 5).
 *
 * Pure and deterministic (the seeded random source is not used): the same prompt always gets the same verdict.
 * It is a heuristic standing in for a real judge, so its agreement with the labels says little about a real one.
 */

const CAPITALISED_STOPWORDS = new Set([
  'The',
  'This',
  'That',
  'These',
  'Those',
  'And',
  'But',
  'For',
  'With',
  'After',
  'Before',
  'When',
  'While',
  'Its',
  'Their',
  'His',
  'Her',
  'Our',
  'She',
  'They',
  'There',
  'Some',
  'According',
]);

/** The text between the rubric's `<tag>` and `</tag>` lines (the first input block, the last output block). */
function block(prompt: string, tag: 'input' | 'output'): string {
  const open = tag === 'input' ? prompt.indexOf(`<${tag}>\n`) : prompt.lastIndexOf(`<${tag}>\n`);
  if (open < 0) return '';
  const from = open + tag.length + 3;
  const close = prompt.indexOf(`\n</${tag}>`, from);
  return prompt.slice(from, close < 0 ? undefined : close);
}

/** The string values of a JSON document (keys are layout, not content), else the text itself. */
function contentOf(text: string): string {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') strings.push(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  try {
    walk(JSON.parse(text));
    return strings.join(' ');
  } catch {
    return text;
  }
}

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
}

function names(text: string): Set<string> {
  return new Set(words(text).filter((w) => /^\p{Lu}\p{Ll}{2,}/u.test(w) && !CAPITALISED_STOPWORDS.has(w)));
}

/** A share in [0, 1] onto the 1–5 scale. */
function scale(share: number): number {
  return 1 + Math.round(4 * Math.max(0, Math.min(1, share)));
}

function concisionOf(ratio: number): number {
  if (ratio <= 0.35) return 5;
  if (ratio <= 0.5) return 4;
  if (ratio <= 0.8) return 3;
  if (ratio <= 1.2) return 2;
  return 1;
}

export interface HeuristicVerdict {
  faithfulness: number;
  coverage: number;
  concision: number;
  rationale: string;
}

/** The verdict `eval.judge` gives for one input and output (exported for tests). */
export function heuristicVerdict(input: string, outputText: string): HeuristicVerdict {
  const output = contentOf(outputText.trim());
  const outWords = words(output);
  if (outWords.length === 0 || output.trim() === '(no output)') {
    return { faithfulness: 1, coverage: 1, concision: 1, rationale: 'There is no output to grade.' };
  }
  const inputVocabulary = new Set(words(input).map((w) => w.toLowerCase()));
  const content = outWords.map((w) => w.toLowerCase()).filter((w) => w.length >= 4);
  const supported = content.filter((w) => inputVocabulary.has(w)).length;
  const faithShare = content.length === 0 ? 0 : supported / content.length;
  const inputNames = [...names(input)];
  const outputLower = output.toLowerCase();
  const covered = inputNames.filter((n) => outputLower.includes(n.toLowerCase())).length;
  const coverShare = inputNames.length === 0 ? 1 : covered / inputNames.length;
  const ratio = outWords.length / Math.max(1, words(input).length);
  return {
    faithfulness: scale(faithShare),
    coverage: scale(coverShare),
    concision: concisionOf(ratio),
    rationale:
      `${Math.round(faithShare * 100)}% of the output's content words occur in the input; ` +
      `it names ${covered} of the input's ${inputNames.length} capitalised names at ${Math.round(ratio * 100)}% of its length.`,
  };
}

export const judgeSkills: Record<string, Skill> = {
  'eval.judge': ({ request }) => {
    const prompt = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    return { json: heuristicVerdict(block(prompt, 'input'), block(prompt, 'output')) };
  },
};
