import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../src/config/index.js';
import { BatonError } from '../src/core/errors.js';
import type { ModelSettings } from '../src/core/model.js';
import { missingProviderConfig } from '../src/models/router.js';
import { orchestrators as registeredOrchestrators } from '../src/orchestrators/index.js';
import type { RegisteredPattern } from '../src/orchestrators/pattern.js';
import { createModels } from '../src/services.js';
import { loadTeamsFrom, shippedTeams, TeamFilesError } from '../src/teams/files.js';
import { compareVariants, defaultStats, type StatsSettings, summarize } from './aggregate.js';
import {
  apiBackend,
  type Backend,
  inProcessBackend,
  type RunJob,
  type RunObservation,
  replayBackend,
} from './backends.js';
import { casesOf, type DatasetSplit, type LoadedDataset, loadDataset } from './datasets/schema.js';

export type { EvalFlags } from './experiment.js';

import type { TeamDefinition } from '../src/teams/schema.js';
import { withVariant } from '../src/teams/variants.js';
import { definitionVersion } from '../src/teams/version.js';
import { type EvalFlags, EvalInputError, type EvalPlan, resolvePlan, seedFor } from './experiment.js';
import { keyFindings } from './findings.js';
import { compareProduction, productionLines, writeProductionReport } from './from-production.js';
import { gateLines, parseMaxDrop, qualityGate, readBaseline } from './gate.js';
import { humanAgreement, humanAgreementLines, readHumanGrades } from './human-grades.js';
import { labelAgreement, modelJudge, type RunJudge } from './judge-run.js';
import { createProgress } from './progress.js';
import { recordingFile, recordingPath, writeRecording } from './record.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown, summaryHead, summaryRows, table } from './report-md.js';
import {
  type CaseResult,
  type EvalConfig,
  type EvalResults,
  evalResultsSchema,
  type Variant,
} from './results-schema.js';
import { qualityScorers, scorableOutput } from './score.js';
import { defaultRubric } from './scorers/judge.js';

/**
 * The teams an eval can run: BATON_TEAMS_DIR of the environment (default: the shipped teams/ folder), as a
 * service with the same environment would load them.
 */
function teamsOf(env: Record<string, string | undefined>): ReadonlyMap<string, TeamDefinition> {
  const dir = env.BATON_TEAMS_DIR;
  if (!dir) return shippedTeams();
  try {
    return new Map(loadTeamsFrom(dir, undefined).map((t) => [t.team.name, t.team]));
  } catch (err) {
    if (err instanceof TeamFilesError) throw new EvalInputError(`BATON_TEAMS_DIR: ${err.message}`);
    throw err;
  }
}

/**
 * `baton eval`: runs every case of a dataset under each variant (pattern × option set), `repeat` times, scores
 * each run, and writes `results.json`, `report.md` and `report.html` to the output directory.
 *
 * - In-process (default): the worker's engine built from `loadConfig(env)`, so BATON_MODEL_PROVIDER and the
 *   provider variables apply. The simulated model keeps its configured latency (BATON_SIMULATED_LATENCY_MS,
 *   default 100–300 ms a call) so latency figures reflect each pattern's round trips; `--concurrency`
 *   (default 8) runs that many runs at once so the run stays short.
 * - `--api URL --key KEY`: the same runs through a running service.
 * - `--replay DIR`: the recorded runs of DIR again, from their journals, with zero model calls.
 *
 * `--judge` (or `judge: true` in an experiment) also grades every run's output with the LLM judge, through a model
 * router built from this process's configuration (in-process and --api modes; not with --replay).
 */

export interface EvalIO {
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the progress style (default: a bar when stderr is a terminal). */
  tty?: boolean;
  teams?: ReadonlyMap<string, TeamDefinition>;
  orchestrators?: ReadonlyMap<string, RegisteredPattern>;
  stats?: StatsSettings;
}

export interface EvalRun {
  results: EvalResults;
  outDir: string;
  files: { results: string; markdown: string; html: string };
}

interface DatasetCase {
  id: string;
  text: string;
  expected: unknown;
}

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/:/g, '-')
    .replace('T', '-');
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Per-agent hash of what shapes the agent's answers: instructions, model settings, policy, output schema. */
export function agentVersions(team: TeamDefinition): Record<string, string> {
  return Object.fromEntries(
    team.agents.map((a) => [
      a.name,
      createHash('sha256')
        .update(JSON.stringify({ ...a, outputSchema: a.outputSchema?.jsonSchema }))
        .digest('hex')
        .slice(0, 12),
    ]),
  );
}

function defaultDeployment(config: Config): string | null {
  switch (config.models.provider) {
    case 'simulated':
      return 'simulated';
    case 'azure-openai':
      return config.env.AZURE_OPENAI_DEPLOYMENT ?? null;
    case 'openai-compatible':
      return config.env.BATON_MODEL ?? null;
    default:
      return null;
  }
}

/** The dataset and the cases of its `split` part, in file order. */
async function loadCases(
  path: string,
  team: string,
  split: DatasetSplit,
): Promise<{ dataset: LoadedDataset; cases: DatasetCase[] }> {
  if (!existsSync(path)) throw new EvalInputError(`The dataset file ${path} does not exist.`);
  let dataset: LoadedDataset;
  try {
    dataset = await loadDataset(path);
  } catch (err) {
    if (err instanceof BatonError) throw new EvalInputError(`The dataset is invalid: ${err.message}`);
    throw err;
  }
  if (dataset.team !== team) {
    throw new EvalInputError(
      `The dataset ${path} holds ${dataset.team} cases, not ${team} ones; pass --team ${dataset.team} or another --dataset.`,
    );
  }
  const cases = casesOf(dataset.cases as (DatasetCase & { split: DatasetSplit })[], split);
  if (cases.length === 0) throw new EvalInputError(`The dataset ${path} has no ${split} cases.`);
  return { dataset, cases };
}

/** Runs `fn` over `items` with at most `concurrency` in flight; the first error stops new work and is rethrown. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed) throw failure;
}

function caseResult(job: RunJob, obs: RunObservation, expected: unknown, team: string): CaseResult {
  const scorer = qualityScorers[team];
  if (!scorer) throw new EvalInputError(`There is no quality scorer for team "${team}".`);
  const q = scorer(expected, scorableOutput(obs.output));
  return {
    caseId: job.caseId,
    pattern: job.variant.pattern,
    optionSet: job.variant.optionSet,
    variant: job.variant.label,
    repeat: job.repeat,
    seed: job.seed,
    runId: obs.runId,
    status: obs.status,
    partial: obs.partial,
    ...(obs.error ? { error: { code: obs.error.code, message: obs.error.message } } : {}),
    output: obs.output ? { text: obs.output.text, structured: obs.output.structured } : null,
    scores: { quality: q.score, components: q.components },
    latencyMs: obs.latencyMs,
    tokens: {
      input: obs.usage.inputTokens,
      output: obs.usage.outputTokens,
      total: obs.usage.inputTokens + obs.usage.outputTokens,
    },
    modelCalls: obs.usage.modelCalls,
    costUsd: obs.usage.costUsd ?? null,
    steps: obs.steps.length,
    definitionVersion: obs.definitionVersion,
    models: [...new Set(obs.steps.flatMap((s) => (s.model ? [s.model] : [])))],
  };
}

function publicFlags(flags: EvalFlags): Record<string, unknown> {
  const { key: _key, ...rest } = flags;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

interface Prepared {
  mode: EvalConfig['mode'];
  plan: EvalPlan;
  dataset: LoadedDataset;
  /** Every case of the scored part (before `--limit`). */
  partCases: number;
  cases: DatasetCase[];
  jobs: RunJob[];
  backend: Backend & { modelCalls?(): number };
  record: boolean;
  model: Omit<EvalConfig['model'], 'modelsSeen' | 'agents'>;
  replayFrom: string | null;
  recordedSimulated: boolean | null;
  judge: RunJudge | null;
}

function jobsFor(plan: EvalPlan, cases: DatasetCase[], teamName: string): RunJob[] {
  const jobs: RunJob[] = [];
  for (const c of cases) {
    for (const variant of plan.variants) {
      for (let repeat = 0; repeat < plan.repeat; repeat++) {
        const seed = seedFor(plan, variant, repeat);
        jobs.push({
          index: jobs.length,
          caseId: c.id,
          variant,
          repeat,
          seed,
          runId: `eval-${c.id}-${variant.pattern}-${variant.optionSet}-r${repeat}`,
          request: {
            team: teamName,
            pattern: variant.pattern,
            input: c.text,
            options: { ...variant.options, seed },
          },
        });
      }
    }
  }
  return jobs;
}

async function prepareReplay(flags: EvalFlags, dir: string, io: EvalIO): Promise<Prepared> {
  if (flags.judge) {
    throw new EvalInputError(
      '--judge cannot be combined with --replay: a replay makes no model calls, so judge the eval when it first runs.',
    );
  }
  for (const conflicting of [
    'api',
    'record',
    'experiment',
    'team',
    'split',
    'patterns',
    'option',
    'seed',
    'repeat',
    'limit',
  ] as const) {
    if (flags[conflicting] !== undefined && flags[conflicting] !== false) {
      throw new EvalInputError(
        `--replay re-runs a recorded eval as it was; it cannot be combined with --${conflicting}.`,
      );
    }
  }
  const file = join(dir, 'results.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new EvalInputError(`Cannot read ${file} to replay: ${(err as Error).message}.`);
  }
  const parsed = evalResultsSchema.safeParse(raw);
  if (!parsed.success)
    throw new EvalInputError(`${file} is not an eval results file this version can replay.`);
  const recorded = parsed.data;
  if (recorded.cases.some((c) => !c.recording)) {
    throw new EvalInputError(`${dir} was not recorded: run the eval with --record first.`);
  }
  // Every recording the results file names must lie inside DIR: checked before anything runs.
  for (const c of recorded.cases) recordingFile(dir, c.recording as string);
  const rc = recorded.config;
  const plan: EvalPlan = {
    team: rc.team,
    datasetPath: flags.dataset ?? rc.dataset.path,
    split: rc.dataset.split,
    patterns: rc.patterns,
    optionSets: rc.optionSets,
    variants: rc.variants,
    repeat: rc.repeat,
    limit: rc.limit,
    concurrency: flags.concurrency !== undefined ? Number(flags.concurrency) : rc.concurrency,
    seed: rc.seed,
    experiment: rc.experiment,
    judge: false,
    teamVariants: null,
  };
  if (!Number.isInteger(plan.concurrency) || plan.concurrency < 1) {
    throw new EvalInputError(`--concurrency must be an integer of at least 1, got "${flags.concurrency}".`);
  }
  const { dataset, cases: all } = await loadCases(plan.datasetPath, plan.team, plan.split);
  const byId = new Map(all.map((c) => [c.id, c]));
  const cases = rc.dataset.caseIds.map((id) => {
    const found = byId.get(id);
    if (!found) throw new EvalInputError(`The dataset ${plan.datasetPath} no longer has case "${id}".`);
    return found;
  });
  const variants = new Map(rc.variants.map((v) => [v.label, v]));
  const jobs: RunJob[] = recorded.cases.map((c, index) => {
    const variant = variants.get(c.variant) as Variant;
    return {
      index,
      caseId: c.caseId,
      variant,
      repeat: c.repeat,
      seed: c.seed,
      runId: c.runId,
      request: {
        team: rc.team,
        pattern: c.pattern,
        input: byId.get(c.caseId)!.text,
        options: { ...variant.options, seed: c.seed },
      },
      recording: c.recording!,
    };
  });
  return {
    mode: 'replay',
    plan,
    dataset,
    partCases: all.length,
    cases,
    jobs,
    backend: replayBackend(dir, {
      teams: io.teams ?? teamsOf(io.env ?? process.env),
      orchestrators: io.orchestrators ?? registeredOrchestrators,
    }),
    record: false,
    model: {
      provider: rc.model.provider,
      defaultDeployment: rc.model.defaultDeployment,
      simulatedLatencyMs: rc.model.simulatedLatencyMs,
    },
    replayFrom: dir,
    recordedSimulated: rc.simulated,
    judge: null,
  };
}

async function prepare(flags: EvalFlags, io: EvalIO): Promise<Prepared> {
  if (flags.replay) return prepareReplay(flags, flags.replay, io);
  const env = io.env ?? process.env;
  const teams = io.teams ?? teamsOf(env);
  const orchestrators = io.orchestrators ?? registeredOrchestrators;
  if (flags.api && flags.record) {
    throw new EvalInputError('--record works in-process only: the API does not expose run journals.');
  }
  const key = flags.key ?? env.BATON_KEY;
  if (flags.api && !key) throw new EvalInputError('--api needs an API key: pass --key or set BATON_KEY.');

  // A dataset given without a team names the team itself.
  let effective = flags;
  if (flags.dataset && !flags.team && !flags.experiment && existsSync(flags.dataset)) {
    try {
      effective = { ...flags, team: (await loadDataset(flags.dataset)).team };
    } catch {
      // loadCases reports the problem below with the file, line and field.
    }
  }
  const plan = await resolvePlan(effective, teams, orchestrators);
  const { dataset, cases: all } = await loadCases(plan.datasetPath, plan.team, plan.split);
  const cases = plan.limit === null ? all : all.slice(0, plan.limit);
  const jobs = jobsFor(plan, cases, plan.team);

  const loadEnvConfig = (): Config => {
    try {
      return loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) throw new EvalInputError(err.message);
      throw err;
    }
  };
  // The judge runs in this process on BATON_MODEL_PROVIDER, whichever way the runs execute.
  const judgeFor = (config: Config): RunJudge | null => {
    if (!plan.judge) return null;
    const problem = missingProviderConfig(config, config.models.provider);
    if (problem) throw new EvalInputError(problem);
    return modelJudge(createModels(config));
  };

  if (flags.api) {
    return {
      mode: 'api',
      plan,
      dataset,
      partCases: all.length,
      cases,
      jobs,
      backend: apiBackend(flags.api, key as string),
      record: false,
      model: { provider: null, defaultDeployment: null, simulatedLatencyMs: null },
      replayFrom: null,
      recordedSimulated: null,
      judge: plan.judge ? judgeFor(loadEnvConfig()) : null,
    };
  }
  const config = loadEnvConfig();
  // Every provider a run will use must be configured: a missing endpoint fails here, not in every run.
  const team = teams.get(plan.team)!;
  const providers = new Set(
    plan.variants.flatMap((v) =>
      team.agents.map((a) => v.options.model?.provider ?? a.model.provider ?? config.models.provider),
    ),
  );
  for (const provider of providers) {
    const problem = missingProviderConfig(config, provider);
    if (problem) throw new EvalInputError(problem);
  }
  return {
    mode: 'in-process',
    plan,
    dataset,
    partCases: all.length,
    cases,
    jobs,
    backend: inProcessBackend(config, { teams, orchestrators }),
    record: flags.record === true,
    model: {
      provider: config.models.provider,
      defaultDeployment: defaultDeployment(config),
      simulatedLatencyMs: config.models.provider === 'simulated' ? config.models.simulated.latencyMs : null,
    },
    replayFrom: null,
    recordedSimulated: null,
    judge: judgeFor(config),
  };
}

/** Runs an eval and writes its files. Throws `EvalInputError` (one sentence) for bad flags, files or teams. */
export async function runEval(flags: EvalFlags, io: EvalIO = {}): Promise<EvalRun> {
  const started = performance.now();
  const createdAt = new Date();
  const stderr = io.stderr ?? process.stderr;
  const stats = io.stats ?? defaultStats;
  const teams = io.teams ?? teamsOf(io.env ?? process.env);
  const p = await prepare(flags, { ...io, teams });
  const team = teams.get(p.plan.team)!;
  if (flags.humanGrades && !p.judge) {
    throw new EvalInputError('--human-grades measures the judge against people: add --judge.');
  }
  const grades = flags.humanGrades ? await readHumanGrades(flags.humanGrades) : undefined;
  const outDir = flags.out ?? join('out', `eval-${timestamp(createdAt)}`);
  await mkdir(outDir, { recursive: true });
  const expected = new Map(p.cases.map((c) => [c.id, c.expected]));
  const singleOptionSet = p.plan.optionSets.length === 1;

  stderr.write(
    `baton eval: ${p.plan.team} · ${p.cases.length} ${p.plan.split} cases × ${p.plan.variants.length} variants × ${p.plan.repeat} repeats = ${p.jobs.length} runs (${p.mode}, concurrency ${p.plan.concurrency}) → ${outDir}\n`,
  );
  const progress = createProgress(p.jobs.length, stderr, io.tty !== undefined ? { tty: io.tty } : {});
  const results: CaseResult[] = new Array(p.jobs.length);
  try {
    await runPool(p.jobs, p.plan.concurrency, async (job) => {
      const obs = await p.backend.run(job);
      const result = caseResult(job, obs, expected.get(job.caseId), p.plan.team);
      if (p.judge) {
        const judged = await p.judge(
          job.request.input,
          scorableOutput(obs.output) ?? obs.output?.text,
          job.seed,
        );
        result.scores.judge = judged.score;
        if (judged.error) result.scores.judgeError = judged.error;
      }
      if (p.record) {
        const rel = recordingPath(
          job.caseId,
          job.variant.pattern,
          job.variant.optionSet,
          job.repeat,
          singleOptionSet,
        );
        await writeRecording(outDir, rel, {
          version: 1,
          caseId: job.caseId,
          pattern: job.variant.pattern,
          optionSet: job.variant.optionSet,
          variant: job.variant.label,
          repeat: job.repeat,
          seed: job.seed,
          runId: obs.runId,
          request: job.request,
          latencyMs: obs.latencyMs,
          usage: obs.usage,
          status: obs.status,
          entries: obs.entries ?? [],
        });
        result.recording = rel;
      }
      results[job.index] = result;
      progress.done({
        caseId: job.caseId,
        variant: job.variant.label,
        repeat: job.repeat,
        status: result.status,
        quality: result.scores.quality,
        latencyMs: result.latencyMs,
      });
    });
  } finally {
    progress.stop();
    await p.backend.close();
  }

  const modelsSeen = [...new Set(results.flatMap((r) => r.models))].sort();
  const simulated =
    modelsSeen.length > 0
      ? modelsSeen.every((m) => m === 'simulated')
      : (p.recordedSimulated ?? p.model.provider === 'simulated');
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain']);
  const agentModels: Record<string, ModelSettings> = Object.fromEntries(
    team.agents.map((a) => [a.name, a.model]),
  );
  const config: EvalConfig = {
    createdAt: createdAt.toISOString(),
    durationMs: 0,
    mode: p.mode,
    flags: publicFlags(flags),
    experiment: p.plan.experiment,
    team: p.plan.team,
    dataset: {
      path: p.plan.datasetPath,
      split: p.plan.split,
      totalCases: p.partCases,
      caseIds: p.cases.map((c) => c.id),
    },
    patterns: p.plan.patterns,
    optionSets: p.plan.optionSets,
    variants: p.plan.variants.map((v) => ({
      ...v,
      definitionVersion:
        results.find((r) => r.variant === v.label && r.definitionVersion)?.definitionVersion ??
        definitionVersion(withVariant(team, v.options.variant) ?? team),
    })),
    repeat: p.plan.repeat,
    limit: p.plan.limit,
    concurrency: p.plan.concurrency,
    seed: p.plan.seed,
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    definitionVersion:
      results.find(
        (r) => r.definitionVersion && !p.plan.variants.find((v) => v.label === r.variant)?.options.variant,
      )?.definitionVersion ?? definitionVersion(team),
    agentVersions: agentVersions(team),
    model: { ...p.model, agents: agentModels, modelsSeen },
    simulated,
    api: p.mode === 'api' && flags.api ? { url: flags.api } : null,
    record: p.record,
    replay: p.replayFrom
      ? { from: p.replayFrom, modelCallsDuringReplay: p.backend.modelCalls?.() ?? 0 }
      : null,
    stats,
    ...(p.judge
      ? {
          judge: {
            rubric: defaultRubric.name,
            judged: results.filter((r) => typeof r.scores.judge === 'number').length,
            failed: results.filter((r) => r.scores.judge === null).length,
            judgeAgreement: labelAgreement(results),
            ...(grades && flags.humanGrades
              ? { humanAgreement: humanAgreement(flags.humanGrades, grades, results, stats) }
              : {}),
          },
        }
      : {}),
  };
  const summary = summarize(results, p.plan.variants, stats);
  const comparisons = compareVariants(results, p.plan.variants, stats);
  config.durationMs = performance.now() - started;
  const output = evalResultsSchema.parse({ version: 1, config, cases: results, summary, comparisons });

  const files = {
    results: join(outDir, 'results.json'),
    markdown: join(outDir, 'report.md'),
    html: join(outDir, 'report.html'),
  };
  await writeFile(files.results, `${JSON.stringify(output, null, 2)}\n`);
  await writeFile(files.markdown, renderMarkdown(output));
  await writeFile(files.html, renderHtml(output));
  return { results: output, outDir, files };
}

/** The CLI entry: runs the eval, prints the summary, returns the exit code (0 done, 1 error or unfaithful replay). */
export async function runEvalCommand(flags: EvalFlags, io: EvalIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    if (flags.fromProduction) return await fromProductionCommand(flags, io);
    // The baseline and threshold are checked before any run starts.
    const maxDrop = flags.baseline || flags.maxDrop !== undefined ? parseMaxDrop(flags.maxDrop) : undefined;
    if (flags.maxDrop !== undefined && !flags.baseline) {
      throw new EvalInputError('--max-drop needs --baseline: the results.json to compare against.');
    }
    const baseline = flags.baseline ? await readBaseline(flags.baseline) : undefined;
    const { results, files, outDir } = await runEval(flags, io);
    const c = results.config;
    const gate =
      baseline && flags.baseline
        ? qualityGate(results, baseline, {
            baselinePath: flags.baseline,
            maxDrop: maxDrop as number,
            stats: io.stats ?? defaultStats,
          })
        : undefined;
    if (gate) await writeFile(join(outDir, 'gate.json'), `${JSON.stringify(gate, null, 2)}\n`);
    const lines = [
      '',
      ...(c.simulated
        ? ['SIMULATED MODEL: these figures show the orchestration’s cost/latency shape, not model quality.']
        : []),
      `${c.team} on the ${c.dataset.split} part of ${c.dataset.path} (${c.dataset.caseIds.length} of its ${c.dataset.totalCases} cases)`,
      table(summaryHead, summaryRows(results)),
      '',
      ...keyFindings(results).map((s) => `- ${s}`),
      '',
      ...(c.judge?.judgeAgreement
        ? [
            `LLM judge vs labels (${c.judge.judgeAgreement.n} runs): Pearson ${c.judge.judgeAgreement.pearson?.toFixed(2) ?? 'n/a'}, Spearman ${c.judge.judgeAgreement.spearman?.toFixed(2) ?? 'n/a'}, kappa ${c.judge.judgeAgreement.kappa?.toFixed(2) ?? 'n/a'}${c.simulated ? ' (simulated judge: a heuristic)' : ''}`,
          ]
        : []),
      ...(c.judge?.humanAgreement ? humanAgreementLines(c.judge.humanAgreement) : []),
      ...(c.replay ? [`modelCalls during replay: ${c.replay.modelCallsDuringReplay}`] : []),
      ...(gate ? gateLines(gate) : []),
      `wrote ${files.results}, ${files.markdown}, ${files.html} (${(c.durationMs / 1000).toFixed(1)} s)`,
      '',
    ];
    stdout.write(lines.join('\n'));
    if (c.replay && c.replay.modelCallsDuringReplay > 0) {
      stderr.write(
        `baton eval: the replay made ${c.replay.modelCallsDuringReplay} model calls; the recordings do not cover every step.\n`,
      );
      return 1;
    }
    return gate && !gate.passed ? 2 : 0;
  } catch (err) {
    if (err instanceof BatonError || err instanceof ConfigError) {
      stderr.write(`baton eval: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** `--from-production`: the team's variants compared on production runs through the API; exit 0 or 1. */
async function fromProductionCommand(flags: EvalFlags, io: EvalIO): Promise<number> {
  const env = io.env ?? process.env;
  const key = flags.key ?? env.BATON_KEY;
  const api = flags.api ?? env.BATON_API_URL;
  if (!flags.team) throw new EvalInputError('--from-production needs --team.');
  if (!api || !key) {
    throw new EvalInputError(
      '--from-production reads the API: pass --api and --key (or BATON_API_URL, BATON_KEY).',
    );
  }
  const report = await compareProduction(
    { team: flags.team, since: flags.since, until: flags.until, api, key },
    io.stats ?? defaultStats,
  );
  const file = await writeProductionReport(
    report,
    flags.out ?? join('out', `production-${timestamp(new Date())}`),
  );
  (io.stdout ?? process.stdout).write(`${[...productionLines(report), `wrote ${file}`, ''].join('\n')}`);
  return 0;
}
