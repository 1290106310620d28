import type { ChatModel, ChatResult, ModelRouter, ModelSettings } from '../src/core/model.js';
import { judgeAgreement } from './scorers/agreement.js';
import { defaultRubric, type JudgeRubric, judgeScore } from './scorers/judge.js';

/**
 * `--judge`: every run's output is also graded by an LLM judge (evals/scorers/judge.ts) through the model router
 * of the eval's configuration, so the judge runs on the same provider as the runs. The simulated model answers
 * with its `eval.judge` skill, a deterministic heuristic.
 */

/** The agent name judge requests carry (telemetry, quota accounting, the simulated model's random source). */
export const JUDGE_AGENT = 'eval-judge';
export const JUDGE_SKILL = 'eval.judge';
/** A judge call that takes longer than this fails the judgement (not the run). */
export const JUDGE_TIMEOUT_MS = 120_000;

export interface JudgeOutcome {
  /** In [0, 1]; null when the judge failed. */
  score: number | null;
  error?: { code: string; message: string };
}

/** One judge request: the prompt as the judge agent's only message, answered within `timeoutMs`. */
export function askJudge(
  model: ChatModel,
  settings: ModelSettings,
  prompt: string,
  seed: number,
  timeoutMs = JUDGE_TIMEOUT_MS,
): Promise<ChatResult> {
  return model.complete(
    {
      agent: JUDGE_AGENT,
      model: settings,
      messages: [{ role: 'user', content: prompt }],
      seed,
      simulation: { skill: JUDGE_SKILL },
    },
    { signal: AbortSignal.timeout(timeoutMs) },
  );
}

/** Grades one run: its input and its output (undefined for a run without output, which scores 0 uncalled). */
export type RunJudge = (input: unknown, output: unknown, seed: number) => Promise<JudgeOutcome>;

export function modelJudge(
  router: ModelRouter,
  options: { model?: ModelSettings; rubric?: JudgeRubric; timeoutMs?: number } = {},
): RunJudge {
  const settings = options.model ?? {};
  const rubric = options.rubric ?? defaultRubric;
  const model = router.modelFor(settings);
  return async (input, output, seed) => {
    if (output === undefined) return { score: 0 };
    try {
      const result = await judgeScore(
        async (prompt) => (await askJudge(model, settings, prompt, seed, options.timeoutMs)).message.content,
        input,
        output,
        rubric,
      );
      return { score: result.score };
    } catch (err) {
      return {
        score: null,
        error: { code: (err as { code?: string }).code ?? 'INTERNAL', message: (err as Error).message },
      };
    }
  };
}

/** Agreement of the judge with the label-based quality over the runs the judge scored (threshold 0.5). */
export function labelAgreement(runs: readonly { scores: { quality: number; judge?: number | null } }[]) {
  const judged = runs.filter(
    (r): r is { scores: { quality: number; judge: number } } => typeof r.scores.judge === 'number',
  );
  if (judged.length === 0) return null;
  const a = judgeAgreement(
    judged.map((r) => r.scores.judge),
    judged.map((r) => r.scores.quality),
    { threshold: 0.5 },
  );
  return {
    n: a.n,
    pearson: a.pearson,
    spearman: a.spearman,
    kappa: a.kappa,
    passAgreement: a.passAgreement,
    threshold: a.threshold,
  };
}
