import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvalResults, evalResultsSchema } from '../../evals/results-schema.js';
import { type EvalRun, runEval, runEvalCommand } from '../../evals/runner.js';
import { shippedTeams } from '../../src/teams/files.js';
import { type BatonProcess, CLI, ROOT, startBaton } from '../support/baton.js';
import { freePort } from '../support/redis.js';

const newsDesk = shippedTeams().get('news-desk')!;

const sh = promisify(execFile);
const PATTERNS = 'sequential,concurrent,handoff,magentic';
const quiet = () => new PassThrough().resume();
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `baton-${name}-`));

/** The built CLI, as `npm run eval -- …` runs it. A little simulated latency makes the latency shape visible. */
async function cliEval(out: string): Promise<EvalResults> {
  await sh(
    process.execPath,
    [CLI, 'eval', '--team', 'news-desk', '--patterns', PATTERNS, '--limit', '3', '--out', out],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BATON_SIMULATED_LATENCY_MS: '20-40', LOG_LEVEL: 'silent' },
    },
  );
  for (const file of ['results.json', 'report.md', 'report.html'])
    expect(existsSync(join(out, file))).toBe(true);
  return evalResultsSchema.parse(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')));
}

const scores = (r: EvalResults) => r.cases.map((c) => [c.caseId, c.variant, c.repeat, c.scores]);
const qualitySummary = (r: EvalResults) => r.summary.map((s) => [s.variant, s.n, s.successRate, s.quality]);
const byVariant = (r: EvalResults) => new Map(r.summary.map((s) => [s.pattern, s]));

describe('baton eval over the new patterns', () => {
  it('compares sequential, concurrent, map and group-chat in one report', async () => {
    const out = tmp('eval-new');
    await sh(
      process.execPath,
      [
        CLI,
        'eval',
        '--team',
        'news-desk',
        '--patterns',
        'sequential,concurrent,map,group-chat',
        '--limit',
        '2',
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', BATON_SIMULATED_LATENCY_MS: '0', LOG_LEVEL: 'silent' },
      },
    );
    const results = evalResultsSchema.parse(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')));
    expect(results.summary.map((s) => s.pattern)).toEqual(['sequential', 'concurrent', 'map', 'group-chat']);
    expect(results.comparisons).toHaveLength(6);
    expect(results.cases.every((c) => c.status === 'succeeded')).toBe(true);
    const report = await readFile(join(out, 'report.md'), 'utf8');
    for (const pattern of ['map', 'group-chat']) expect(report).toContain(`| ${pattern} |`);
  }, 60_000);
});

describe('baton eval (in-process)', () => {
  let first: EvalResults;

  beforeAll(async () => {
    first = await cliEval(tmp('eval-a'));
  }, 30_000);

  it('writes results.json with the documented shape, one case per case × pattern, and both reports', async () => {
    expect(first.cases).toHaveLength(3 * 4);
    expect(first.summary.map((s) => s.pattern)).toEqual(['sequential', 'concurrent', 'handoff', 'magentic']);
    expect(first.comparisons).toHaveLength(6); // 4 choose 2
    expect(first.config).toMatchObject({
      mode: 'in-process',
      team: 'news-desk',
      simulated: true,
      seed: 0,
      repeat: 1,
      limit: 3,
      definitionVersion: first.cases[0]!.definitionVersion,
      // The test part by default: news-002 is a dev case.
      dataset: {
        path: 'evals/datasets/news-articles.jsonl',
        split: 'test',
        totalCases: 46,
        caseIds: ['news-001', 'news-003', 'news-004'],
      },
      model: { provider: 'simulated', simulatedLatencyMs: [20, 40], modelsSeen: ['simulated'] },
    });
    const head = await sh('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).then(
      (r) => r.stdout.trim(),
      () => null, // not a git checkout: the runner records null
    );
    expect(first.config.gitCommit).toBe(head);
    expect(first.cases.every((c) => c.status === 'succeeded')).toBe(true);
  });

  it('shows each pattern’s cost and latency shape', () => {
    const s = byVariant(first);
    const seq = s.get('sequential')!;
    const conc = s.get('concurrent')!;
    const hand = s.get('handoff')!;
    const mag = s.get('magentic')!;
    const runs = (p: string) => first.cases.filter((c) => c.pattern === p);
    // sequential: one call per agent in order; concurrent: one per branch, merged without a model call.
    expect(runs('sequential').every((c) => c.modelCalls === newsDesk.patterns.sequential!.order.length)).toBe(
      true,
    );
    expect(
      runs('concurrent').every((c) => c.modelCalls === newsDesk.patterns.concurrent!.agents.length),
    ).toBe(true);
    // concurrent runs its branches at once: fewer calls and lower latency than the five in a row.
    expect(conc.modelCalls.mean).toBeLessThan(seq.modelCalls.mean);
    expect(conc.latencyMs.p50).toBeLessThan(seq.latencyMs.p50);
    // magentic: a plan, a ledger per round, each participant and a final answer, one after another.
    expect(mag.modelCalls.mean).toBeGreaterThanOrEqual(newsDesk.patterns.magentic!.participants.length + 2);
    expect(mag.latencyMs.p50).toBeGreaterThan(seq.latencyMs.p50);
    expect(mag.tokens.mean).toBeGreaterThan(seq.tokens.mean);
    // handoff: the entry agent routes, specialists work, one call at a time.
    expect(hand.modelCalls.mean).toBeGreaterThanOrEqual(2);
    expect(hand.latencyMs.p50).toBeGreaterThan(conc.latencyMs.p50);
  });

  it('gives identical scores when run again with the same seed', async () => {
    const again = await cliEval(tmp('eval-b'));
    expect(scores(again)).toEqual(scores(first));
    expect(qualitySummary(again)).toEqual(qualitySummary(first));
    expect(again.comparisons.map((c) => c.quality)).toEqual(first.comparisons.map((c) => c.quality));
  }, 30_000);
});

describe('record and replay', () => {
  let recorded: EvalRun;
  const io = { stderr: quiet(), stdout: quiet(), env: { BATON_SIMULATED_LATENCY_MS: '5-15' } };

  beforeAll(async () => {
    recorded = await runEval(
      { team: 'news-desk', patterns: PATTERNS, limit: '3', record: true, out: tmp('eval-rec') },
      io,
    );
  });

  it('replays from the recordings with zero model calls and reproduces the scores, latency and usage', async () => {
    const dir = recorded.outDir;
    expect(recorded.results.cases.every((c) => c.recording && existsSync(join(dir, c.recording)))).toBe(true);
    expect(existsSync(join(dir, 'recordings/news-001/sequential/0.json'))).toBe(true);

    const replayed = await runEval({ replay: dir, out: tmp('eval-replay') }, io);
    expect(replayed.results.config.mode).toBe('replay');
    expect(replayed.results.config.replay).toEqual({ from: dir, modelCallsDuringReplay: 0 });
    expect(scores(replayed.results)).toEqual(scores(recorded.results));
    expect(qualitySummary(replayed.results)).toEqual(qualitySummary(recorded.results));
    const figures = (r: EvalResults) => r.cases.map((c) => [c.latencyMs, c.tokens, c.modelCalls, c.status]);
    expect(figures(replayed.results)).toEqual(figures(recorded.results));
    expect(await readFile(replayed.files.markdown, 'utf8')).toContain('| modelCalls during replay | 0 |');
    expect(replayed.results.config.dataset).toEqual(recorded.results.config.dataset);
  });

  it('counts and fails a replay whose recording misses a step', async () => {
    const dir = recorded.outDir;
    const file = join(dir, 'recordings/news-003/sequential/0.json');
    const recording = JSON.parse(await readFile(file, 'utf8')) as { entries: [string, { kind: string }][] };
    const last = recording.entries.filter(([, e]) => e.kind === 'agent').at(-1)![0];
    recording.entries = recording.entries.filter(([k]) => k !== last);
    await writeFile(file, JSON.stringify(recording));
    const err = new PassThrough();
    let text = '';
    err.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await runEvalCommand({ replay: dir, out: tmp('eval-replay-bad') }, { ...io, stderr: err });
    expect(code).toBe(1);
    expect(text).toContain('the replay made 1 model calls');
  });
});

describe('baton eval --api against baton dev', () => {
  const KEY = 'eval-test-key-0123456789';
  let dev: BatonProcess | undefined;
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    dev = startBaton('dev', {
      PORT: String(port),
      BATON_DATA_DIR: tmp('eval-dev'),
      BATON_API_KEYS: `${KEY}:admin`,
      BATON_SIMULATED_LATENCY_MS: '0',
      LOG_LEVEL: 'warn',
    });
    await dev.waitFor(/Try it:/, 20_000);
    url = `http://127.0.0.1:${port}`;
  }, 30_000);
  afterAll(async () => {
    await dev?.kill();
  });

  it('gives the same quality figures as in-process', async () => {
    const flags = { team: 'news-desk', patterns: PATTERNS, limit: '3' };
    const io = { stderr: quiet(), stdout: quiet(), env: { BATON_SIMULATED_LATENCY_MS: '0' } };
    const viaApi = await runEval({ ...flags, api: url, key: KEY, out: tmp('eval-api') }, io);
    const local = await runEval({ ...flags, out: tmp('eval-local') }, io);
    expect(viaApi.results.config).toMatchObject({ mode: 'api', api: { url }, simulated: true });
    expect(JSON.stringify(viaApi.results.config)).not.toContain(KEY);
    expect(viaApi.results.cases.every((c) => c.status === 'succeeded')).toBe(true);
    expect(qualitySummary(viaApi.results)).toEqual(qualitySummary(local.results));
    expect(scores(viaApi.results)).toEqual(scores(local.results));
    expect(viaApi.results.cases.map((c) => c.modelCalls)).toEqual(
      local.results.cases.map((c) => c.modelCalls),
    );
    expect(viaApi.results.config.definitionVersion).toBe(local.results.config.definitionVersion);
  }, 40_000);
});
