import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/support.js';

/**
 * Process control for the chaos check: every process it starts (redis-server, the model server, `baton api`,
 * `baton worker`) goes through one supervisor, which writes each one's output to a log file, notices exits
 * nobody asked for, and stops whatever is still alive at the end — also on Ctrl-C.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'dist/src/cli.js');
/** Service processes start as in production: the telemetry preload first (a no-op without telemetry settings). */
export const PRELOAD = resolve(ROOT, 'dist/src/telemetry/preload.js');
const MODEL_SERVER = resolve(ROOT, 'test/support/azure-openai-server.ts');

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited (at once if it already has). */
  exited: Promise<void>;
  alive(): boolean;
}

export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

export class Supervisor {
  private readonly live = new Set<Managed>();
  /** Processes that exited without being told to: a crash is a finding, not noise. */
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly stopping = new WeakSet<Managed>();
  private readonly startedAt = Date.now();
  private readonly seen = new Set<string>();

  constructor(readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  spawn(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Managed {
    // Output goes straight to a file descriptor: nothing flows through this process, which keeps it cheap.
    const fd = openSync(join(this.logDir, `${name}.log`), 'a');
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    let done = false;
    const managed: Managed = {
      name,
      child,
      exited: new Promise<void>((r) =>
        child.once('exit', (code, signal) => {
          done = true;
          this.live.delete(managed);
          if (!this.stopping.has(managed)) {
            this.unexpectedExits.push({ name, code, signal, atMs: Date.now() - this.startedAt });
          }
          r();
        }),
      ),
      alive: () => !done,
    };
    child.once('error', () => {
      done = true;
      this.live.delete(managed);
    });
    this.live.add(managed);
    return managed;
  }

  /** Sends `signal` to a process this supervisor started and waits for it to go. */
  async kill(p: Managed, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.stopping.add(p);
    if (p.alive()) p.child.kill(signal);
    await p.exited;
  }

  /** Whether the process has written `text` to its log (read until seen, then remembered). */
  logged(p: Managed, text: string): boolean {
    const key = `${p.name}\u0000${text}`;
    if (this.seen.has(key)) return true;
    const file = join(this.logDir, `${p.name}.log`);
    if (!existsSync(file) || !readFileSync(file, 'utf8').includes(text)) return false;
    this.seen.add(key);
    return true;
  }

  async waitForLog(p: Managed, text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logged(p, text)) {
      if (!p.alive()) throw new Error(`${p.name} exited during start-up (see ${p.name}.log)`);
      if (Date.now() > deadline) throw new Error(`${p.name} did not log "${text}" within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /**
   * Stops every process still alive: the `first` ones with SIGKILL (nothing of theirs is kept, and they would
   * only log connection errors once Redis is gone), then the rest with SIGTERM, SIGKILL after `graceMs`.
   */
  async stopAll(first: (p: Managed) => boolean = () => false, graceMs = 3_000): Promise<void> {
    await Promise.all([...this.live].filter(first).map((p) => this.kill(p, 'SIGKILL')));
    const all = [...this.live];
    for (const p of all) {
      this.stopping.add(p);
      p.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      for (const p of all) if (p.alive()) p.child.kill('SIGKILL');
    }, graceMs);
    await Promise.all(all.map((p) => p.exited));
    clearTimeout(timer);
  }

  /** Last resort on process exit: synchronous, so it also runs from an `exit` handler. */
  killAllNow(): void {
    for (const p of this.live) {
      this.stopping.add(p);
      p.child.kill('SIGKILL');
    }
  }
}

async function waitUntil(what: string, probe: () => Promise<boolean>, p: Managed, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!p.alive()) throw new Error(`${what} exited during start-up (see ${p.name}.log)`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.ok;
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

export interface RedisHandle {
  port: number;
  url: string;
  process: Managed;
}

/**
 * A redis-server that loses nothing on SIGKILL: append-only file fsynced on every write, in `dir`. Restarting
 * it on the same port and directory brings back every acknowledged write.
 */
export async function startRedis(sup: Supervisor, port: number, dir: string, generation: number) {
  mkdirSync(dir, { recursive: true });
  const p = sup.spawn(
    `redis-${generation}`,
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { PATH: process.env.PATH ?? '' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(
    'redis-server',
    async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // PING answers while the AOF is still loading; a write proves the data set is back.
        await probe.set('chaos-check:probe', '1');
        return true;
      } finally {
        probe.disconnect();
      }
    },
    p,
    20_000,
  );
  return { port, url, process: p } satisfies RedisHandle;
}

// ---------------------------------------------------------------------------------------------------------------
// The model server

export const MODEL_DEPLOYMENT = 'gpt-4o-mini';
export const MODEL_KEY = 'test-key';

export interface ModelServerHandle {
  url: string;
  process: Managed;
}

/**
 * The local Azure OpenAI server (its `/openai/v1` surface is OpenAI-compatible) in a process of its own; it
 * records every request, and answers each after `latencyMs` so runs take a while.
 */
export async function startModelServer(sup: Supervisor, latencyMs: number): Promise<ModelServerHandle> {
  const port = await freePort();
  const p = sup.spawn('model-server', process.execPath, ['--import', 'tsx', MODEL_SERVER, String(port)], {
    PATH: process.env.PATH ?? '',
    DEPLOYMENTS: MODEL_DEPLOYMENT,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    'the model server',
    async () => {
      const res = await fetch(`${url}/_control/behaviour`, {
        method: 'PUT',
        body: JSON.stringify({ latencyMs }),
        signal: AbortSignal.timeout(1_000),
      });
      await res.arrayBuffer();
      return res.ok;
    },
    p,
    30_000,
  );
  return { url, process: p };
}

// ---------------------------------------------------------------------------------------------------------------
// baton processes

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm run chaos does).`);
}

export function startBaton(sup: Supervisor, role: 'api' | 'worker', name: string, env: NodeJS.ProcessEnv) {
  return sup.spawn(name, process.execPath, ['--import', PRELOAD, CLI, role], env);
}

/** Starts `baton api` and waits until it answers its readiness probe (Redis reachable). */
export async function startApi(sup: Supervisor, name: string, url: string, env: NodeJS.ProcessEnv) {
  const p = startBaton(sup, 'api', name, env);
  await waitUntil('baton api', () => httpOk(`${url}/readyz`), p, 30_000);
  return p;
}
