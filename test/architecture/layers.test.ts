import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The architecture rules of `npm run lint` (.dependency-cruiser.cjs) on a scratch copy of src/: main passes, and
 * each kind of violation — an import of a higher layer, an import cycle — fails with the rule's name.
 */

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let scratch: string;

async function cruise(): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      [
        join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
        'src',
        '--config',
        '.dependency-cruiser.cjs',
        '--output-type',
        'err',
      ],
      { cwd: scratch },
    );
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? 1, output: e.stdout ?? '' };
  }
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'baton-layers-'));
  cpSync(join(root, 'src'), join(scratch, 'src'), { recursive: true });
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) {
    cpSync(join(root, file), join(scratch, file));
  }
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('architecture rules', () => {
  it('pass on the source as it is', async () => {
    const result = await cruise();
    expect(result.output).toContain('no dependency violations found');
    expect(result.code).toBe(0);
  });

  it('fail when a lower layer imports a higher one', async () => {
    const file = join(scratch, 'src/core/upward.ts');
    writeFileSync(file, "export { execute } from '../engine/index.js';\n");
    const result = await cruise();
    rmSync(file);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/layer-core: src\/core\/upward\.ts → src\/engine\/index\.ts/);
  });

  it('fail when an import closes a cycle inside one layer', async () => {
    const a = join(scratch, 'src/policies/cycle-a.ts');
    const b = join(scratch, 'src/policies/cycle-b.ts');
    writeFileSync(a, "import { b } from './cycle-b.js';\nexport const a = () => b;\n");
    writeFileSync(b, "import { a } from './cycle-a.js';\nexport const b = () => a;\n");
    const result = await cruise();
    rmSync(a);
    rmSync(b);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('no-circular');
  });

  it('fail when a pattern does its own I/O instead of going through the run context', async () => {
    const file = join(scratch, 'src/orchestrators/sneaky.ts');
    writeFileSync(file, "import { Redis } from 'ioredis';\nexport const redis = () => new Redis();\n");
    const result = await cruise();
    rmSync(file);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('orchestrators-do-no-io');
  });
});
