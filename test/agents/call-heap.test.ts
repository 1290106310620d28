import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Bytes the young generation promoted while the helper made `calls` agent calls (from `--trace-gc-nvp`). */
async function promotedPerCall(calls: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--trace-gc-nvp',
      // Small semi-spaces: many scavenges in a short loop, so what each call leaves behind is counted many times over.
      '--max-semi-space-size=1',
      'test/agents/helpers/agent-call-loop.ts',
      String(calls),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code).toBe(0);
  expect(out).toContain(`calls ${calls}`);
  const lines = out.split('\n');
  // Every scavenge of the process (module loading promotes a fixed amount, spread over the calls).
  let promoted = 0;
  let scavenges = 0;
  for (const line of lines) {
    if (!line.includes('gc=s ')) continue;
    scavenges += 1;
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  expect(scavenges).toBeGreaterThan(10);
  return promoted / calls;
}

describe("an agent call's garbage", () => {
  it('mostly dies young: a call no longer carries itself into the old generation', async () => {
    // An object literal with a getter closure (the attempt's lazy signal, the request's options) kept each call in
    // flight alive until a full collection on Node 20: 2.4 KB promoted per call. Without them, about 0.56 KB: part
    // of it the run's AbortSignal, which Node 20 promotes with what it references (docs/benchmarks.md), spread over
    // the run's four calls, plus module loading spread over all the calls.
    expect(await promotedPerCall(40_000)).toBeLessThan(1_000);
  }, 60_000);
});
