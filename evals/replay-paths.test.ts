import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readRecording } from './record.js';
import { runEvalCommand } from './runner.js';

const quiet = () => new PassThrough().resume();
const env = { BATON_SIMULATED_LATENCY_MS: '0' };

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

describe('--replay reads recordings from its own directory only', () => {
  it('refuses a results.json that names recordings outside the directory (../, absolute, symbolic links)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'baton-replay-'));
    expect(
      await runEvalCommand(
        { team: 'news-desk', patterns: 'sequential', limit: '1', out, record: true },
        { env, stderr: quiet(), stdout: quiet() },
      ),
    ).toBe(0);
    const resultsFile = join(out, 'results.json');
    const results = JSON.parse(await readFile(resultsFile, 'utf8')) as { cases: { recording: string }[] };
    const genuine = results.cases[0]?.recording as string;
    expect(genuine).toMatch(/^recordings\//);

    // A copy of the genuine recording outside the directory, which a tampered results file points at.
    const outside = mkdtempSync(join(tmpdir(), 'baton-outside-'));
    writeFileSync(join(outside, 'stolen.json'), await readFile(join(out, genuine), 'utf8'));
    mkdirSync(join(out, 'recordings', 'linked'), { recursive: true });
    symlinkSync(join(outside, 'stolen.json'), join(out, 'recordings', 'linked', 'link.json'));

    const tampered = [
      `../${outside.split('/').at(-1)}/stolen.json`,
      join(outside, 'stolen.json'),
      'recordings/../../etc/passwd',
      'recordings/linked/link.json',
    ];
    for (const recording of tampered) {
      writeFileSync(resultsFile, JSON.stringify({ ...results, cases: [{ ...results.cases[0], recording }] }));
      const err = capture();
      const code = await runEvalCommand({ replay: out }, { env, stderr: err.stream, stdout: quiet() });
      expect(code, recording).toBe(1);
      expect(err.text(), recording).toMatch(
        /outside .*a replay reads recordings from its own directory only/,
      );
    }
    await expect(readRecording(out, '../x.json')).rejects.toThrow(/is outside/);

    // The untampered file still replays.
    writeFileSync(resultsFile, JSON.stringify(results));
    expect(await runEvalCommand({ replay: out }, { env, stderr: quiet(), stdout: quiet() })).toBe(0);
  });
});
