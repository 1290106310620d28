import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ModelRouter, ModelSettings } from '../src/core/model.js';
import { EvaluationLog } from '../src/runs/evaluation-log.js';
import { llmopsKeys } from '../src/runs/keys.js';
import type { Evaluation, RunRecord } from '../src/runs/schema.js';
import type { RunStore } from '../src/runs/store.js';
import type { TeamResolver } from '../src/teams/resolver.js';
import type { TeamDefinition } from '../src/teams/schema.js';
import { withVariant } from '../src/teams/variants.js';
import { recordEvalScore } from '../src/telemetry/metrics.js';
import { askJudge } from './judge-run.js';
import { scorableOutput } from './score.js';
import { defaultRubric, type JudgeRubric, judgeScore } from './scorers/judge.js';

/**
 * Online evaluation: the processor of the `evals` queue. For one finished run it computes the label-free scores —
 * `schema` (1 when the output is valid against the team's output schema, 0 when not; teams without one get
 * none) and `judge` (the LLM judge with the team's `evaluation.rubric`, else the default rubric, on
 * BATON_ONLINE_EVAL_MODEL) — stores them where they outlive the run (`llmops:evaluations:<run>`, a hash by scorer,
 * so a retried job rewrites rather than repeats) and records each as `baton.eval.score`.
 *
 * The judge is budgeted: the tokens it spends are counted per UTC hour across the fleet, and once an hour's count
 * reaches BATON_ONLINE_EVAL_MAX_TOKENS_PER_HOUR, runs are graded without the judge until the next hour. A judge
 * that fails (an outage, an unparseable verdict) throws after the other scores are stored, so BullMQ retries the
 * job; the run itself finished long before and is never touched.
 */

export interface OnlineEvaluatorDeps {
  redis: Redis;
  prefix: string;
  store: RunStore;
  teams: TeamResolver;
  models: ModelRouter;
  judgeModel: ModelSettings | undefined;
  maxTokensPerHour: number;
  retentionSeconds: number;
  log: Logger;
}

export interface OnlineEvaluation {
  runId: string;
  scores: Evaluation[];
  /** Why the judge did not grade: `budget` (the hour's tokens are spent), `no-output`. */
  judgeSkipped?: string;
}

const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);

export function onlineEvaluator(deps: OnlineEvaluatorDeps): (runId: string) => Promise<OnlineEvaluation> {
  const keys = llmopsKeys(deps.prefix);
  const evaluationLog = new EvaluationLog(deps.redis, deps.prefix, deps.retentionSeconds);
  const settings = deps.judgeModel ?? {};
  const model = deps.models.modelFor(settings);
  const judgeModelName = [settings.provider ?? model.provider, settings.deployment].filter(Boolean).join('/');

  const store = async (record: RunRecord, owner: string, team: TeamDefinition, evaluation: Evaluation) => {
    const key = keys.evaluations(record.id);
    await deps.redis
      .multi()
      .hset(key, evaluation.scorer, JSON.stringify(evaluation))
      .expire(key, deps.retentionSeconds)
      .exec();
    await evaluationLog.add(owner, {
      runId: record.id,
      team: team.name,
      pattern: record.pattern,
      variant: record.variant ?? 'base',
      ...(record.subject ? { subject: record.subject } : {}),
      definitionVersion: record.definitionVersion,
      scorer: evaluation.scorer,
      score: evaluation.score,
      ...(evaluation.judgeModel ? { judgeModel: evaluation.judgeModel } : {}),
      at: evaluation.at,
    });
    recordEvalScore({
      team: team.name,
      pattern: record.pattern,
      variant: record.variant ?? 'base',
      scorer: evaluation.scorer,
      score: evaluation.score,
    });
  };

  const judge = async (record: RunRecord, rubric: JudgeRubric, output: unknown, seed: number) => {
    const tokensKey = keys.judgeTokens(hourOf(Date.now()));
    let spent = 0;
    let answeredBy: string | undefined;
    try {
      const result = await judgeScore(
        async (prompt) => {
          const reply = await askJudge(model, settings, prompt, seed);
          spent += reply.usage.inputTokens + reply.usage.outputTokens;
          answeredBy = reply.model;
          return reply.message.content;
        },
        record.input,
        output,
        rubric,
      );
      return { score: result.score, model: answeredBy };
    } finally {
      if (spent > 0) await deps.redis.multi().incrby(tokensKey, spent).expire(tokensKey, 7200).exec();
    }
  };

  return async (runId) => {
    const run = await deps.store.get(runId);
    if (!run?.record.output) return { runId, scores: [], judgeSkipped: 'no-output' };
    const { record } = run;
    const runOutput = run.record.output;
    const pinned = record.teamVersion ? await deps.teams.version(record.team, record.teamVersion) : undefined;
    const base = pinned ?? (await deps.teams.current(record.team))?.team;
    if (!base) return { runId, scores: [], judgeSkipped: 'unknown-team' };
    const team = withVariant(base, record.variant) ?? base;
    const at = new Date().toISOString();
    const scores: Evaluation[] = [];
    if (team.outputSchema) {
      const valid = team.outputSchema.check(runOutput.structured ?? safeJson(runOutput.text)).ok;
      const evaluation = { scorer: 'schema', score: valid ? 1 : 0, at };
      await store(record, run.owner, base, evaluation);
      scores.push(evaluation);
    }
    const spent = Number((await deps.redis.get(keys.judgeTokens(hourOf(Date.now())))) ?? 0);
    if (spent >= deps.maxTokensPerHour) {
      deps.log.info(
        { runId, spent },
        'online judge budget spent for this hour; run graded without the judge',
      );
      return { runId, scores, judgeSkipped: 'budget' };
    }
    const rubric = team.evaluation?.rubric
      ? { name: `${team.name}-rubric`, template: team.evaluation.rubric }
      : defaultRubric;
    const output = scorableOutput(runOutput) ?? runOutput.text;
    const judged = await judge(record, rubric, output, record.options.seed ?? 0);
    const evaluation: Evaluation = {
      scorer: 'judge',
      score: judged.score,
      judgeModel: judged.model ?? judgeModelName,
      rubric: rubric.name,
      at,
    };
    await store(record, run.owner, base, evaluation);
    scores.push(evaluation);
    return { runId, scores };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
