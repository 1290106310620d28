import { z } from 'zod';
import { BatonError } from '../../src/core/errors.js';

/**
 * LLM-as-judge. A rubric is a prompt template; the judge is a plain function from prompt to completion text
 * (the runner passes a model call; tests pass a stub). The judge must answer with one strict JSON object:
 *
 *   {"faithfulness": 1-5, "coverage": 1-5, "concision": 1-5, "rationale": "..."}
 *
 * Parsing is strict: the reply, trimmed, must be exactly that object (one surrounding ```json fence is tolerated,
 * nothing else: no prose before or after, no extra keys, integer scores 1–5). When the first reply does not
 * parse, the judge is asked once more with the parse error appended; a second bad reply throws
 * `JudgeVerdictError`. Errors thrown by the judge function itself propagate unchanged.
 *
 * The normalised score is the mean over the three criteria of (s − 1) / 4, in [0, 1].
 *
 * A judge is a measuring instrument with its own biases: check it against human labels with `judgeAgreement`
 * before trusting it.
 */

export const judgeCriteria = ['faithfulness', 'coverage', 'concision'] as const;
export type JudgeCriterion = (typeof judgeCriteria)[number];

export const judgeVerdictSchema = z.strictObject({
  faithfulness: z.int().min(1).max(5),
  coverage: z.int().min(1).max(5),
  concision: z.int().min(1).max(5),
  rationale: z.string(),
});
export type JudgeVerdict = z.infer<typeof judgeVerdictSchema>;

export interface JudgeRubric {
  name: string;
  /** The prompt; `{{input}}` and `{{output}}` are replaced by the task input and the output under review. */
  template: string;
}

export type JudgeFn = (prompt: string) => Promise<string>;

export interface JudgeResult {
  /** Mean of (s − 1) / 4 over the criteria, in [0, 1]. */
  score: number;
  verdict: JudgeVerdict;
  /** 1 when the first reply parsed, 2 when the retry was needed. */
  attempts: number;
  /** The reply that parsed. */
  raw: string;
}

export const defaultRubric: JudgeRubric = {
  name: 'summary-quality-v1',
  template: `You are grading the output of an assistant that read a text and produced a structured summary of it.
Grade only what is written; do not reward length or style for its own sake.

Score each criterion on a 1–5 scale:

faithfulness — is every statement in the output supported by the input?
  5 = everything is supported; 4 = one minor unsupported detail; 3 = one material unsupported or wrong claim;
  2 = several wrong claims; 1 = mostly invented or contradicts the input.
coverage — does the output capture the points of the input that matter (who, what, and the consequences)?
  5 = all key points; 4 = one minor point missing; 3 = one key point missing; 2 = most key points missing;
  1 = misses the point of the input.
concision — is the output free of repetition, filler and irrelevant detail?
  5 = nothing superfluous; 4 = a little padding; 3 = noticeably padded or repetitive; 2 = mostly padding;
  1 = unreadable or many times longer than needed.

<input>
{{input}}
</input>

<output>
{{output}}
</output>

Reply with exactly one JSON object and nothing else, on one line, in this form:
{"faithfulness": <1-5>, "coverage": <1-5>, "concision": <1-5>, "rationale": "<one or two sentences>"}`,
};

/** The judge's reply could not be parsed into a verdict, twice. */
export class JudgeVerdictError extends BatonError {
  constructor(message: string, details: { rubric: string; replies: string[]; errors: string[] }) {
    super('JUDGE_VERDICT_INVALID', message, details);
  }
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '(no output)';
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** The prompt for one judgement: the rubric template with `{{input}}` and `{{output}}` filled in. */
export function buildJudgePrompt(rubric: JudgeRubric, input: unknown, output: unknown): string {
  const values: Record<string, string> = { input: asText(input), output: asText(output) };
  // One pass over the template, so placeholders inside the substituted texts are left alone.
  return rubric.template.replace(/\{\{(input|output)\}\}/g, (_, key: string) => values[key] ?? '');
}

export type ParsedVerdict = { ok: true; verdict: JudgeVerdict } | { ok: false; error: string };

/** Parses one judge reply strictly (see the module comment). Never throws. */
export function parseJudgeVerdict(reply: string): ParsedVerdict {
  let text = reply.trim();
  const fence = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/.exec(text);
  if (fence) text = (fence[1] ?? '').trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not a JSON object: ${(err as Error).message}` };
  }
  const parsed = judgeVerdictSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, error: issues.join('; ') };
  }
  return { ok: true, verdict: parsed.data };
}

/** Mean of (s − 1) / 4 over faithfulness, coverage and concision: 1 → 0, 5 → 1. */
export function normalizeVerdict(verdict: JudgeVerdict): number {
  const sum = judgeCriteria.reduce((acc, c) => acc + (verdict[c] - 1) / 4, 0);
  return sum / judgeCriteria.length;
}

export async function judgeScore(
  judge: JudgeFn,
  input: unknown,
  output: unknown,
  rubric: JudgeRubric = defaultRubric,
): Promise<JudgeResult> {
  const prompt = buildJudgePrompt(rubric, input, output);
  const replies: string[] = [];
  const errors: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const request =
      attempt === 1
        ? prompt
        : `${prompt}\n\nYour previous reply could not be parsed (${errors[0]}). ` +
          'Reply with only the JSON object, exactly in the form given above.';
    const reply = await judge(request);
    replies.push(reply);
    const parsed = parseJudgeVerdict(reply);
    if (parsed.ok) {
      return {
        score: normalizeVerdict(parsed.verdict),
        verdict: parsed.verdict,
        attempts: attempt,
        raw: reply,
      };
    }
    errors.push(parsed.error);
  }
  throw new JudgeVerdictError(
    `The judge did not return a valid verdict in 2 attempts: ${errors.join(' | ')}`,
    {
      rubric: rubric.name,
      replies,
      errors,
    },
  );
}
