import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global set-up: one scratch folder per test run, given as TMPDIR to the test processes and to everything
 * they start (API and worker processes, CLIs, browsers), and removed when the run ends. Tests make their temporary
 * files with `tmpdir()` as usual; a run leaves nothing behind in the machine's temporary folder.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'baton-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
