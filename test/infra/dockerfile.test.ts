import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIVENESS_PATH } from '../../src/api/probes.js';
import { isKnownEnvVar } from '../../src/config/index.js';
import { envPairs, execForm, parseDockerfile, type Stage } from './dockerfile.js';

const root = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerfile = parseDockerfile(text);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

const finalStage = dockerfile.stages.at(-1) as Stage;
const runs = (stage: Stage) => stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const only = (stage: Stage, op: string) => {
  const found = stage.instructions.filter((i) => i.op === op);
  expect(found, `${op} instructions in the final stage`).toHaveLength(1);
  return found[0]!;
};

describe('Dockerfile', () => {
  it('parses into a multi-stage build', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(finalStage.instructions.length).toBeGreaterThan(0);
  });

  it('pins every base image to an exact tag, never latest', () => {
    const stageNames = new Set(dockerfile.stages.map((s) => s.name).filter(Boolean));
    for (const stage of dockerfile.stages) {
      if (stageNames.has(stage.image.toLowerCase())) continue;
      expect(stage.image, 'unsubstituted ARG in FROM').not.toContain('$');
      const [, tag] = /^[^:@]+:([^@]+)/.exec(stage.image) ?? [];
      expect(tag, `${stage.image} has no tag`).toBeDefined();
      expect(tag).not.toMatch(/latest/);
      // An exact release (major.minor.patch), not a moving major tag.
      expect(tag).toMatch(/^\d+\.\d+\.\d+-/);
    }
  });

  it('runs a Node LTS line (even major, 22 or newer) on Debian slim', () => {
    for (const stage of dockerfile.stages.filter((s) => s.image.startsWith('node:'))) {
      const major = Number(/^node:(\d+)\./.exec(stage.image)?.[1]);
      expect(major % 2).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(stage.image).toMatch(/-bookworm-slim$/);
    }
  });

  it('builds with npm ci from the lockfile and npm run build, never npm install', () => {
    const build = dockerfile.stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    const buildRuns = runs(build!);
    const ci = buildRuns.findIndex((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r));
    const compile = buildRuns.findIndex((r) => /\bnpm run build\b/.test(r));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(ci).toBeLessThan(compile);
    const copiesLock = build!.instructions.some(
      (i) => i.op === 'COPY' && i.args.includes('package-lock.json'),
    );
    expect(copiesLock).toBe(true);
    for (const stage of dockerfile.stages) {
      for (const r of runs(stage)) expect(r).not.toMatch(/\bnpm (install|i)\b/);
    }
  });

  it('installs production dependencies only in the final stage and copies the compiled dist', () => {
    expect(runs(finalStage).some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r))).toBe(true);
    expect(runs(finalStage).some((r) => /\bnpm run build\b/.test(r))).toBe(false);
    const copies = finalStage.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies.some((c) => /--from=\S+/.test(c) && /\bdist\b/.test(c))).toBe(true);
  });

  it('ships the team files next to package.json, where the default BATON_TEAMS_DIR is found', () => {
    const copies = finalStage.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toContain('--from=build /app/teams ./teams');
  });

  it('switches to a non-root user before the entrypoint', () => {
    const ops = finalStage.instructions.map((i) => i.op);
    const user = finalStage.instructions.filter((i) => i.op === 'USER').at(-1);
    expect(user, 'USER in the final stage').toBeDefined();
    expect(user!.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(ops.lastIndexOf('USER')).toBeLessThan(ops.indexOf('ENTRYPOINT'));
    expect(ops.lastIndexOf('USER')).toBeLessThan(ops.indexOf('CMD'));
  });

  it('has a HEALTHCHECK that fetches the liveness path with node (no curl in slim images)', () => {
    const hc = only(finalStage, 'HEALTHCHECK').args;
    expect(hc).toContain('CMD');
    expect(hc).toContain(LIVENESS_PATH);
    expect(hc).toContain('127.0.0.1');
    expect(hc).toContain('process.env.PORT');
    expect(hc).toMatch(/\bfetch\(/);
    expect(hc).not.toMatch(/\b(curl|wget)\b/);
  });

  it('sets only known environment variables, with HOST=0.0.0.0 and NODE_ENV=production', () => {
    const env = Object.fromEntries(
      finalStage.instructions.filter((i) => i.op === 'ENV').flatMap((i) => envPairs(i.args)),
    );
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.NODE_ENV).toBe('production');
    expect(Object.keys(env).filter((name) => !isKnownEnvVar(name))).toEqual([]);
  });

  it('is one image for both roles: the CLI with the telemetry preload, api by default', () => {
    const entrypoint = execForm(only(finalStage, 'ENTRYPOINT').args);
    expect(entrypoint).toEqual([
      'node',
      '--max-semi-space-size=8',
      '--import',
      './dist/src/telemetry/preload.js',
      'dist/src/cli.js',
    ]);
    // The same files and Node flags package.json runs, so a change to one breaks this test rather than the image.
    expect(pkg.bin.baton).toBe(entrypoint?.[4]);
    for (const script of ['baton', 'start', 'start:api', 'start:worker'])
      expect(pkg.scripts[script]).toContain(entrypoint?.join(' '));
    expect(execForm(only(finalStage, 'CMD').args)).toEqual(['api']);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['node_modules', '.git', 'dist', '.env']) expect(ignored).toContain(entry);
    for (const needed of [
      'package.json',
      'package-lock.json',
      'src',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(ignored).not.toContain(needed);
    }
  });
});
