import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration } from './progress.js';
import { readRecording, recordingPath, replayModel, writeRecording } from './record.js';
import { runEvalCommand, runPool } from './runner.js';

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

const done = (i: number) => ({
  caseId: `news-00${i}`,
  variant: 'sequential',
  repeat: 0,
  status: 'succeeded',
  quality: 0.5,
  latencyMs: 120,
});

describe('progress', () => {
  it('prints one line per run for small evals, with count, percentage and ETA', () => {
    const out = sink();
    let t = 0;
    const p = createProgress(4, out.stream, { tty: false, now: () => t });
    t = 1000;
    p.done(done(1));
    t = 2000;
    p.done(done(2));
    const lines = out.text().trim().split('\n');
    expect(lines).toEqual([
      '[1/4 25%] news-001 · sequential · r0 ok q=0.50 120 ms · ETA 3s', // 1 s per run, 3 to go
      '[2/4 50%] news-002 · sequential · r0 ok q=0.50 120 ms · ETA 2s',
    ]);
  });

  it('prints every 5% for large evals, and the last run', () => {
    const out = sink();
    const p = createProgress(201, out.stream, { tty: false, now: () => 0 });
    for (let i = 0; i < 201; i++) p.done(done(1));
    // every ceil(201 / 20) = 11 runs → 18 lines, plus the 201st
    expect(out.text().trim().split('\n')).toHaveLength(19);
  });

  it('formats durations', () => {
    expect([formatDuration(400), formatDuration(61_000), formatDuration(3_720_000)]).toEqual([
      '0s',
      '1m 1s',
      '1h 2m',
    ]);
  });
});

describe('record and replay pieces', () => {
  it('lays recordings out by case, pattern (and option set when there are several) and repeat', () => {
    expect(recordingPath('news-001', 'sequential', 'default', 0, true)).toBe(
      'recordings/news-001/sequential/0.json',
    );
    expect(recordingPath('news-001', 'sequential', 'context-last', 2, false)).toBe(
      'recordings/news-001/sequential@context-last/2.json',
    );
  });

  it('writes and reads a recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-rec-'));
    const rel = recordingPath('news-001', 'sequential', 'default', 0, true);
    const recording = {
      version: 1 as const,
      caseId: 'news-001',
      pattern: 'sequential',
      optionSet: 'default',
      variant: 'sequential',
      repeat: 0,
      seed: 0,
      runId: 'r1',
      request: { team: 'news-desk', pattern: 'sequential' as const, input: 'text', options: { seed: 0 } },
      latencyMs: 12.5,
      usage: { inputTokens: 10, outputTokens: 5, modelCalls: 1 },
      status: 'succeeded',
      entries: [
        ['seq/0/step', { kind: 'step' as const, value: 1, completedAt: '2025-01-01T00:00:00.000Z' }],
      ] as [string, { kind: 'step'; value: unknown; completedAt: string }][],
    };
    await writeRecording(dir, rel, recording);
    expect(await readRecording(dir, rel)).toEqual(recording);
    await expect(readRecording(dir, 'recordings/missing/0.json')).rejects.toThrow(
      /Cannot read the recording/,
    );
  });

  it('the replay model refuses and counts every call', async () => {
    const model = replayModel();
    const request = { agent: 'summarizer', model: {}, messages: [], seed: 0 };
    await expect(model.complete(request, { signal: AbortSignal.timeout(1000) })).rejects.toMatchObject({
      code: 'MODEL_PERMANENT',
      retryable: false,
    });
    await expect(model.complete(request, { signal: AbortSignal.timeout(1000) })).rejects.toThrow(
      /agent "summarizer"/,
    );
    expect(model.calls).toBe(2);
  });
});

describe('runPool', () => {
  it('keeps at most `concurrency` items in flight and does them all', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      inFlight -= 1;
    });
    expect(peak).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops taking new items after an error and rethrows it', async () => {
    const seen: number[] = [];
    await expect(
      runPool([1, 2, 3, 4, 5], 1, async (n) => {
        seen.push(n);
        if (n === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
  });
});

describe('runEvalCommand errors', () => {
  async function fails(flags: Parameters<typeof runEvalCommand>[0]) {
    const err = sink();
    const code = await runEvalCommand(flags, { stderr: err.stream, stdout: sink().stream, env: {} });
    return { code, message: err.text() };
  }

  it('exits 1 with one sentence for a bad dataset path, team or pattern', async () => {
    expect(await fails({ dataset: 'evals/datasets/nope.jsonl', team: 'news-desk' })).toEqual({
      code: 1,
      message: 'baton eval: The dataset file evals/datasets/nope.jsonl does not exist.\n',
    });
    expect((await fails({ team: 'sports-desk' })).message).toBe(
      'baton eval: Unknown team "sports-desk"; known teams: news-desk, support-desk.\n',
    );
    expect((await fails({ team: 'support-desk', patterns: 'sequential' })).message).toMatch(
      /^baton eval: Team "support-desk" is not wired for the sequential pattern \(it supports .+\)\.\n$/,
    );
    expect(
      (await fails({ team: 'news-desk', dataset: 'evals/datasets/support-tickets.jsonl' })).message,
    ).toBe(
      'baton eval: The dataset evals/datasets/support-tickets.jsonl holds support-desk cases, not news-desk ones; pass --team support-desk or another --dataset.\n',
    );
    expect((await fails({ api: 'http://127.0.0.1:9', record: true, key: 'k' })).message).toMatch(
      /--record works in-process only/,
    );
  });

  it('reads the team from a dataset given without --team', async () => {
    const out = mkdtempSync(join(tmpdir(), 'baton-eval-'));
    const code = await runEvalCommand(
      { dataset: 'evals/datasets/support-tickets.jsonl', patterns: 'handoff', limit: '2', out },
      { stderr: sink().stream, stdout: sink().stream, env: { BATON_SIMULATED_LATENCY_MS: '0' } },
    );
    expect(code).toBe(0);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
      config: { team: string };
      cases: unknown[];
    };
    expect(results.config.team).toBe('support-desk');
    expect(results.cases).toHaveLength(2);
  });
});
