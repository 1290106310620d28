import { describe, expect, it } from 'vitest';
import {
  buildJudgePrompt,
  defaultRubric,
  JudgeVerdictError,
  judgeScore,
  normalizeVerdict,
  parseJudgeVerdict,
} from './judge.js';

const verdict = (f: number, c: number, k: number) =>
  JSON.stringify({ faithfulness: f, coverage: c, concision: k, rationale: 'ok' });

/** A judge stub that answers from a script and records the prompts it saw. */
function scripted(replies: string[]) {
  const prompts: string[] = [];
  const judge = async (prompt: string) => {
    prompts.push(prompt);
    const reply = replies.shift();
    if (reply === undefined) throw new Error('judge called too often');
    return reply;
  };
  return { judge, prompts };
}

describe('buildJudgePrompt', () => {
  it('fills input and output into the rubric, serialising structured output', () => {
    const prompt = buildJudgePrompt(defaultRubric, 'Article text', { summary: 'Short.' });
    expect(prompt).toContain('<input>\nArticle text\n</input>');
    expect(prompt).toContain('"summary": "Short."');
    expect(prompt).not.toContain('{{');
    expect(prompt).toMatch(/faithfulness[\s\S]*coverage[\s\S]*concision/);
    expect(prompt).toContain('1–5');
  });

  it('does not expand placeholders that appear inside the substituted texts', () => {
    const prompt = buildJudgePrompt({ name: 't', template: 'I={{input}} O={{output}}' }, '{{output}}', 'x');
    expect(prompt).toBe('I={{output}} O=x');
  });
});

describe('parseJudgeVerdict', () => {
  it('accepts the strict JSON object, optionally in one json fence', () => {
    expect(parseJudgeVerdict(` ${verdict(5, 4, 3)}\n`)).toEqual({
      ok: true,
      verdict: { faithfulness: 5, coverage: 4, concision: 3, rationale: 'ok' },
    });
    expect(parseJudgeVerdict(`\`\`\`json\n${verdict(1, 1, 1)}\n\`\`\``).ok).toBe(true);
  });

  it.each([
    ['prose around the JSON', `Here is my verdict: ${verdict(5, 5, 5)}`],
    ['a score out of range', verdict(6, 5, 5)],
    ['a fractional score', verdict(4.5, 5, 5)],
    ['a missing criterion', JSON.stringify({ faithfulness: 5, coverage: 5, rationale: 'x' })],
    [
      'an extra key',
      JSON.stringify({ faithfulness: 5, coverage: 5, concision: 5, rationale: 'x', overall: 5 }),
    ],
    ['a string score', JSON.stringify({ faithfulness: '5', coverage: 5, concision: 5, rationale: 'x' })],
    ['an array', '[5, 5, 5]'],
  ])('rejects %s', (_, reply) => {
    expect(parseJudgeVerdict(reply).ok).toBe(false);
  });
});

describe('normalizeVerdict', () => {
  it('maps each criterion 1..5 to 0..1 and averages', () => {
    // (5−1)/4 = 1, (4−1)/4 = 0.75, (3−1)/4 = 0.5 → mean = 2.25 / 3 = 0.75
    expect(normalizeVerdict({ faithfulness: 5, coverage: 4, concision: 3, rationale: '' })).toBe(0.75);
    expect(normalizeVerdict({ faithfulness: 1, coverage: 1, concision: 1, rationale: '' })).toBe(0);
    expect(normalizeVerdict({ faithfulness: 5, coverage: 5, concision: 5, rationale: '' })).toBe(1);
  });
});

describe('judgeScore', () => {
  it('returns the normalised score from a valid first reply', async () => {
    const { judge, prompts } = scripted([verdict(4, 4, 2)]);
    const r = await judgeScore(judge, 'input', 'output');
    // (3/4 + 3/4 + 1/4) / 3 = (7/4) / 3 = 7/12
    expect(r.score).toBeCloseTo(7 / 12, 12);
    expect(r.attempts).toBe(1);
    expect(prompts).toHaveLength(1);
  });

  it('retries once with the parse error appended', async () => {
    const { judge, prompts } = scripted(['I think it is good.', verdict(5, 5, 5)]);
    const r = await judgeScore(judge, 'input', 'output');
    expect(r.score).toBe(1);
    expect(r.attempts).toBe(2);
    expect(prompts[1]).toContain(prompts[0]);
    expect(prompts[1]).toMatch(/could not be parsed \(not a JSON object/);
  });

  it('throws a typed error after two bad replies', async () => {
    const { judge } = scripted(['nope', verdict(9, 9, 9)]);
    const err = await judgeScore(judge, 'input', 'output').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JudgeVerdictError);
    expect(err).toMatchObject({ code: 'JUDGE_VERDICT_INVALID' });
    expect((err as JudgeVerdictError).details).toMatchObject({
      rubric: 'summary-quality-v1',
      replies: ['nope', verdict(9, 9, 9)],
    });
  });

  it('lets errors from the judge function propagate', async () => {
    const failing = async () => {
      throw new Error('model unavailable');
    };
    await expect(judgeScore(failing, 'i', 'o')).rejects.toThrow('model unavailable');
  });
});
