import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { humanAgreement } from './human-grades.js';
import type { EvalResults } from './results-schema.js';
import { runEvalCommand } from './runner.js';

const env = { BATON_SIMULATED_LATENCY_MS: '0' };

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

async function judgedEval(grades: string): Promise<{ code: number; out: string; results: EvalResults }> {
  const outDir = mkdtempSync(join(tmpdir(), 'baton-grades-out-'));
  const out = capture();
  const code = await runEvalCommand(
    { team: 'news-desk', patterns: 'sequential', limit: '16', judge: true, humanGrades: grades, out: outDir },
    { env, stderr: new PassThrough().resume(), stdout: out.stream },
  );
  const results = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')) as EvalResults;
  return { code, out: out.text(), results };
}

describe("the judge's agreement with people (--human-grades)", () => {
  let judged: EvalResults;
  beforeAll(async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'baton-grades-judge-'));
    await runEvalCommand(
      { team: 'news-desk', patterns: 'sequential', limit: '16', judge: true, out: outDir },
      { env, stderr: new PassThrough().resume(), stdout: new PassThrough().resume() },
    );
    judged = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')) as EvalResults;
  });

  const gradesFile = (grade: (judge: number) => number | 'pass' | 'fail') => {
    const path = join(mkdtempSync(join(tmpdir(), 'baton-grades-')), 'grades.jsonl');
    writeFileSync(
      path,
      judged.cases
        .map((c) => JSON.stringify({ caseId: c.caseId, grade: grade(c.scores.judge as number) }))
        .join('\n'),
    );
    return path;
  };

  it('reports kappa and Spearman with CIs, and trusts a judge that grades as people do', async () => {
    const { code, out, results } = await judgedEval(gradesFile((j) => j));
    expect(code).toBe(0);
    const a = results.config.judge?.humanAgreement;
    expect(a?.n).toBe(16);
    expect(a?.kappa).toBe(1);
    expect(a?.spearman).toBeCloseTo(1, 6);
    expect(a?.spearmanCi95).not.toBeNull();
    expect(a?.kappaCi95).not.toBeNull();
    expect(a?.trusted).toBe(true);
    expect(out).toMatch(
      /LLM judge vs people \(16 graded runs.*\): kappa 1\.00 \[.*\], Spearman 1\.00 \[.*\]/,
    );
    expect(out).not.toContain('WARNING');
  });

  it('warns plainly when the judge disagrees with people', async () => {
    const { code, out, results } = await judgedEval(gradesFile((j) => (j >= 0.5 ? 'fail' : 'pass')));
    expect(code).toBe(0);
    const a = results.config.judge?.humanAgreement;
    expect(a?.trusted).toBe(false);
    expect(out).toContain('WARNING: The judge disagrees with people too much to be trusted');
  });

  it('computes categorical kappa and CI on pairs, and refuses to trust too few grades', () => {
    const runs = [0.9, 0.8, 0.2, 0.1].map((judge, i) => ({
      caseId: `c${i}`,
      variant: 'v',
      scores: { judge },
    }));
    const a = humanAgreement(
      'g.jsonl',
      [
        { caseId: 'c0', grade: 'pass' },
        { caseId: 'c1', grade: 'pass' },
        { caseId: 'c2', grade: 'fail' },
        { caseId: 'c3', grade: 'fail' },
      ],
      runs,
      { B: 500, seed: 1 },
    );
    expect(a.kappa).toBe(1);
    expect(a.trusted).toBe(false);
    expect(a.warning).toContain('only 4 graded runs');
  });

  it('refuses --human-grades without --judge', async () => {
    const err = capture();
    const code = await runEvalCommand(
      { team: 'news-desk', patterns: 'sequential', limit: '1', humanGrades: gradesFile((j) => j) },
      { env, stderr: err.stream, stdout: new PassThrough().resume() },
    );
    expect(code).toBe(1);
    expect(err.text()).toContain('add --judge');
  });
});
