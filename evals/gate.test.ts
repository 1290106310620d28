import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
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

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Makes every recorded final answer worse: the editor's article is called the opposite kind, with no companies. */
function worsen(dir: string): void {
  for (const file of files(join(dir, 'recordings'))) {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as {
      entries: [
        string,
        { result?: { agent?: string; text?: string; structured?: Record<string, unknown> } },
      ][];
    };
    for (const [, entry] of rec.entries) {
      const result = entry.result;
      if (result?.agent !== 'editor' || !result.structured) continue;
      const worse = {
        ...result.structured,
        isBusiness: !result.structured.isBusiness,
        companies: [],
        summary: 'Nothing to report.',
      };
      result.structured = worse;
      result.text = JSON.stringify(worse);
    }
    writeFileSync(file, JSON.stringify(rec));
  }
}

describe('the quality gate (--baseline, --max-drop)', () => {
  let baseline: string;
  beforeAll(async () => {
    baseline = mkdtempSync(join(tmpdir(), 'baton-gate-base-'));
    const code = await runEvalCommand(
      { team: 'news-desk', patterns: 'sequential', limit: '12', out: baseline, record: true },
      { env, stderr: new PassThrough().resume(), stdout: new PassThrough().resume() },
    );
    expect(code).toBe(0);
  });

  it('passes on a replay of the baseline itself', async () => {
    const out = capture();
    const code = await runEvalCommand(
      {
        replay: baseline,
        baseline: join(baseline, 'results.json'),
        maxDrop: '0.02',
        out: mkdtempSync(join(tmpdir(), 'baton-gate-out-')),
      },
      { env, stderr: new PassThrough().resume(), stdout: out.stream },
    );
    expect(out.text()).toContain('quality gate passed');
    expect(out.text()).toContain('modelCalls during replay: 0');
    expect(code).toBe(0);
  });

  it('fails with exit code 2 on a replayed recording whose answers were made worse, naming the cases', async () => {
    const worse = mkdtempSync(join(tmpdir(), 'baton-gate-worse-'));
    cpSync(baseline, worse, { recursive: true });
    worsen(worse);
    const outDir = mkdtempSync(join(tmpdir(), 'baton-gate-out-'));
    const out = capture();
    const code = await runEvalCommand(
      { replay: worse, baseline: join(baseline, 'results.json'), maxDrop: '0.02', out: outDir },
      { env, stderr: new PassThrough().resume(), stdout: out.stream },
    );
    expect(code).toBe(2);
    expect(out.text()).toContain('QUALITY GATE FAILED');
    expect(out.text()).toMatch(/FAIL sequential: .* vs baseline/);
    const base = JSON.parse(await readFile(join(baseline, 'results.json'), 'utf8')) as EvalResults;
    const gate = JSON.parse(await readFile(join(outDir, 'gate.json'), 'utf8')) as {
      passed: boolean;
      variants: { worse: { caseId: string }[]; ci95: [number, number] }[];
    };
    expect(gate.passed).toBe(false);
    expect(gate.variants[0]?.ci95[1]).toBeLessThan(0);
    const worseIds = gate.variants[0]?.worse.map((c) => c.caseId) ?? [];
    expect(worseIds.length).toBeGreaterThan(0);
    for (const id of worseIds) {
      expect(base.cases.map((c) => c.caseId)).toContain(id);
      expect(out.text()).toContain(`worse: ${id}`);
    }
  });

  it('refuses --max-drop without --baseline, and a threshold out of range', async () => {
    const err = capture();
    expect(
      await runEvalCommand(
        { replay: baseline, maxDrop: '0.1' },
        { env, stderr: err.stream, stdout: new PassThrough().resume() },
      ),
    ).toBe(1);
    expect(err.text()).toContain('--max-drop needs --baseline');
    expect(
      await runEvalCommand(
        { replay: baseline, baseline: join(baseline, 'results.json'), maxDrop: '2' },
        { env, stderr: err.stream, stdout: new PassThrough().resume() },
      ),
    ).toBe(1);
    expect(err.text()).toContain('--max-drop must be a number between 0 and 1');
  });
});
