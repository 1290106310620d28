/**
 * Child-process harness for the telemetry bootstrap tests.
 *
 * The preload is exercised the way production runs it: compiled JavaScript loaded with
 * `node --import <preload.js> <script.js> <role>`. Only the telemetry modules and the fixtures are
 * compiled (TypeScript's API, into test-artifacts/), so the tests do not depend on `npm run build`
 * nor on the rest of the tree compiling at that moment.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface TelemetryBuild {
  preload: string;
  fixture(name: string): string;
  remove(): void;
}

/** Compiles src/telemetry and test/telemetry/fixtures into a fresh directory under test-artifacts/. */
export function buildTelemetry(): TelemetryBuild {
  const outDir = join(repoRoot, 'test-artifacts', `telemetry-build-${randomUUID().slice(0, 8)}`);
  const configPath = join(repoRoot, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile.bind(ts.sys));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
  const roots = ts.sys
    .readDirectory(join(repoRoot, 'src/telemetry'), ['.ts'])
    .concat(ts.sys.readDirectory(join(repoRoot, 'test/telemetry/fixtures'), ['.ts']));
  const program = ts.createProgram(roots, {
    ...parsed.options,
    outDir,
    rootDir: repoRoot,
    noEmit: false,
    sourceMap: false,
    declaration: false,
    incremental: false,
  });
  const emitted = program.emit();
  const errors = ts
    .getPreEmitDiagnostics(program)
    .concat(emitted.diagnostics)
    .filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    rmSync(outDir, { recursive: true, force: true });
    throw new Error(
      ts.formatDiagnostics(errors, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => repoRoot,
        getNewLine: () => '\n',
      }),
    );
  }
  return {
    preload: join(outDir, 'src/telemetry/preload.js'),
    fixture: (name) => join(outDir, 'test/telemetry/fixtures', `${name}.js`),
    remove: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

export { cleanEnv } from '../../../bench/support.js';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

/** Runs `node [--import preload] script args…` and collects its output; kills it after `timeoutMs`. */
export function runNode(
  options: { preload?: string; script: string; args?: string[]; env: Record<string, string> },
  timeoutMs = 30_000,
): Promise<ChildResult> {
  const argv = [
    ...(options.preload ? ['--import', options.preload] : []),
    options.script,
    ...(options.args ?? []),
  ];
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, {
      cwd: repoRoot,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
