import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ModelRouter } from '../src/core/model.js';
import { simulatedModel } from '../src/simulation/index.js';
import { defaultSkills } from '../src/simulation/skills.js';
import { JUDGE_SKILL, labelAgreement, modelJudge } from './judge-run.js';
import { renderMarkdown } from './report-md.js';
import { evalResultsSchema } from './results-schema.js';
import { runEval, runEvalCommand } from './runner.js';
import { buildJudgePrompt, defaultRubric, judgeScore, parseJudgeVerdict } from './scorers/judge.js';

const quiet = () => new PassThrough().resume();
const env = { BATON_SIMULATED_LATENCY_MS: '0' };

const input =
  'Acme Corp agreed to buy Globex for $2 billion on Monday, Acme chief executive Jane Doe said. ' +
  'Regulators in Brussels are expected to review the deal, which would make Acme the largest supplier in Europe.';

const model = simulatedModel({ latencyMs: [0, 0], failureRate: 0, hangRate: 0 });
const router: ModelRouter = { modelFor: () => model };

async function askPrompt(prompt: string): Promise<string> {
  const reply = await model.complete(
    {
      agent: 'eval-judge',
      model: {},
      messages: [{ role: 'user', content: prompt }],
      seed: 0,
      simulation: { skill: JUDGE_SKILL },
    },
    { signal: AbortSignal.timeout(1000) },
  );
  return reply.message.content;
}

const ask = (output: unknown) => askPrompt(buildJudgePrompt(defaultRubric, input, output));

describe('the eval.judge skill', () => {
  it('is registered with the simulated model', () => {
    expect(defaultSkills[JUDGE_SKILL]).toBeTypeOf('function');
  });

  it('answers a verdict the strict parser accepts, the same every time', async () => {
    const output = { headline: 'Acme to buy Globex', summary: 'Acme agreed to buy Globex for $2 billion.' };
    const reply = await ask(output);
    const parsed = parseJudgeVerdict(reply);
    expect(parsed.ok).toBe(true);
    expect(await ask(output)).toBe(reply);
  });

  it('scores outputs by what they say: faithful, covering, short beats invented, partial or padded', async () => {
    const score = async (output: unknown) => (await judgeScore(askPrompt, input, output)).score;
    const good = await score({
      summary: 'Acme agreed to buy Globex; regulators in Brussels will review the deal, Jane Doe said.',
    });
    const invented = await score({
      summary: 'Initech shareholders rejected a hostile takeover bid yesterday.',
    });
    const partial = await score({ summary: 'Regulators are expected to review the deal.' });
    const padded = await score({ summary: `${input} ${input} ${input}` });
    for (const s of [good, invented, partial, padded]) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    expect(good).toBeGreaterThan(invented);
    expect(good).toBeGreaterThan(partial);
    expect(good).toBeGreaterThan(padded);
    expect(new Set([good, invented, partial, padded]).size).toBeGreaterThan(2);
  });

  it('gives the lowest verdict to a missing output', async () => {
    const parsed = parseJudgeVerdict(await ask(undefined));
    expect(parsed).toMatchObject({ ok: true, verdict: { faithfulness: 1, coverage: 1, concision: 1 } });
  });
});

describe('modelJudge', () => {
  it('scores a run without output 0 without a call, and keeps the error code when the judge fails', async () => {
    const judge = modelJudge(router);
    expect(await judge(input, undefined, 0)).toEqual({ score: 0 });
    const broken = modelJudge({
      modelFor: () => ({
        provider: 'simulated',
        complete: async () => ({
          message: { role: 'assistant', content: 'I think it is fine.' },
          toolCalls: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          model: 'simulated',
          finishReason: 'stop',
        }),
      }),
    });
    const failed = await broken(input, { summary: 'Acme buys Globex.' }, 0);
    expect(failed.score).toBeNull();
    expect(failed.error?.code).toBe('JUDGE_VERDICT_INVALID');
  });

  it('labelAgreement leaves out failed judgements and is null when nothing was judged', () => {
    expect(labelAgreement([{ scores: { quality: 0.4, judge: null } }])).toBeNull();
    const a = labelAgreement([
      { scores: { quality: 0.2, judge: 0.1 } },
      { scores: { quality: 0.9, judge: 0.8 } },
      { scores: { quality: 0.6, judge: null } },
    ]);
    expect(a).toMatchObject({ n: 2, pearson: 1, spearman: 1, kappa: 1, threshold: 0.5 });
  });
});

describe('runEval --judge', () => {
  const run = async (seed: string) => {
    const out = mkdtempSync(join(tmpdir(), 'baton-judge-'));
    const { results, files } = await runEval(
      { team: 'news-desk', judge: true, limit: '3', seed, out },
      { env, stderr: quiet(), stats: { B: 200, seed: 1, confidence: 0.95 } },
    );
    return { results, markdown: await readFile(files.markdown, 'utf8'), out };
  };

  it('grades every run, summarises the judge per pattern and reports its agreement with the labels', async () => {
    const { results, markdown, out } = await run('0');
    expect(results.cases.length).toBe(3 * results.config.variants.length);
    for (const c of results.cases) {
      expect(c.scores.judge).toBeTypeOf('number');
      expect(c.scores.judge).toBeGreaterThanOrEqual(0);
      expect(c.scores.judge).toBeLessThanOrEqual(1);
    }
    for (const s of results.summary) {
      expect(s.judge?.mean).toBeGreaterThanOrEqual(0);
      expect(s.judge?.ci95[0]).toBeLessThanOrEqual(s.judge!.mean);
    }
    const judge = results.config.judge!;
    expect(judge).toMatchObject({ rubric: defaultRubric.name, judged: results.cases.length, failed: 0 });
    expect(judge.judgeAgreement?.n).toBe(results.cases.length);
    expect(judge.judgeAgreement?.threshold).toBe(0.5);
    expect(judge.judgeAgreement).toHaveProperty('pearson');
    expect(judge.judgeAgreement?.kappa).toBeTypeOf('number');
    expect(markdown).toContain('## LLM judge');
    expect(markdown).toMatch(/Pearson .*Spearman .*κ/);
    expect(markdown).toContain('the judge is a heuristic');
    // The written file validates, and so does an old one without the judge fields.
    const written = evalResultsSchema.parse(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')));
    expect(written.config.judge).toEqual(judge);
    const { judge: _j, ...oldConfig } = written.config;
    const old = {
      ...written,
      config: oldConfig,
      cases: written.cases.map(({ scores: { judge: _s, ...scores }, ...c }) => ({ ...c, scores })),
      summary: written.summary.map(({ judge: _s, ...s }) => s),
    };
    expect(evalResultsSchema.safeParse(old).success).toBe(true);
    expect(renderMarkdown(old)).not.toContain('LLM judge');
  });

  it('gives identical judge scores for the same seed', async () => {
    const [a, b] = await Promise.all([run('5'), run('5')]);
    expect(a.results.cases.map((c) => c.scores.judge)).toEqual(b.results.cases.map((c) => c.scores.judge));
    expect(a.results.config.judge).toEqual(b.results.config.judge);
  });

  it('is off without --judge, and refused with --replay in one sentence', async () => {
    const out = mkdtempSync(join(tmpdir(), 'baton-judge-'));
    const { results } = await runEval(
      { team: 'news-desk', patterns: 'sequential', limit: '1', out },
      { env, stderr: quiet() },
    );
    expect(results.config.judge).toBeUndefined();
    expect(results.cases[0]!.scores.judge).toBeUndefined();
    expect(results.summary[0]!.judge).toBeUndefined();

    let message = '';
    const err = new PassThrough();
    err.on('data', (d: Buffer) => {
      message += d.toString();
    });
    const code = await runEvalCommand({ replay: out, judge: true }, { env, stderr: err, stdout: quiet() });
    expect(code).toBe(1);
    expect(message).toBe(
      'baton eval: --judge cannot be combined with --replay: a replay makes no model calls, so judge the eval when it first runs.\n',
    );
  });
});
