import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import type { RunEvent } from '../../src/core/events.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { freePort } from './redis.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'dist/src/cli.js');
/** Processes start as in production: the telemetry preload first (a no-op when nothing is configured). */
export const PRELOAD = resolve(ROOT, 'dist/src/telemetry/preload.js');

export const CLIENT_KEY = 'client-key-aaaaaaaaaaaaaaaa';
export const OTHER_CLIENT_KEY = 'client-key-bbbbbbbbbbbbbbbb';
export const OPERATOR_KEY = 'operator-key-cccccccccccccccc';
export const API_KEYS = `${CLIENT_KEY}:client,${OTHER_CLIENT_KEY}:client,${OPERATOR_KEY}:operator`;

/** A baton process (`api`, `worker`, `dev`) started from the built CLI, with its output captured. */
export interface BatonProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** The exit code once the process has ended (null when a signal ended it). */
  exited: Promise<number | null>;
}

export function startBaton(role: string, env: Record<string, string>): BatonProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does).`);
  const child = spawn(process.execPath, ['--import', PRELOAD, CLI, role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', BATON_SIMULATED_LATENCY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    exited,
    output: () => out,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = pattern.exec(out);
        if (m) return m[0];
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`baton ${role} exited (${child.exitCode ?? child.signalCode}):\n${out}`);
        }
        await sleep(25);
      }
      throw new Error(`timed out waiting for ${pattern} from baton ${role}:\n${out}`);
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An API process on a free port. */
export async function startApi(redisUrl: string, prefix: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const proc = startBaton('api', {
    REDIS_URL: redisUrl,
    BATON_REDIS_PREFIX: prefix,
    BATON_API_KEYS: API_KEYS,
    PORT: String(port),
    ...env,
  });
  await proc.waitFor(/Server listening/);
  return { ...proc, url: `http://127.0.0.1:${port}` };
}

export function startWorker(redisUrl: string, prefix: string, env: Record<string, string> = {}) {
  return startBaton('worker', { REDIS_URL: redisUrl, BATON_REDIS_PREFIX: prefix, ...env });
}

/** A tiny typed client for the HTTP API. */
export function client(base: string, key: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  return {
    call,
    createRun: async (body: unknown, headers?: Record<string, string>) => {
      const res = await call('POST', '/v1/runs', body, headers);
      return { ...res, run: res.body as unknown as RunRecord };
    },
    getRun: async (id: string) => (await call('GET', `/v1/runs/${id}`)).body as unknown as RunRecord,
    async waitForStatus(id: string, statuses: RunRecord['status'][], timeoutMs = 20_000): Promise<RunRecord> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = (await call('GET', `/v1/runs/${id}`)).body as unknown as RunRecord;
        if (statuses.includes(run.status)) return run;
        if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    /** Reads the SSE stream until it ends (or `until` says stop); returns the events with their ids. */
    async events(
      id: string,
      options: { lastEventId?: string; until?: (e: RunEvent) => boolean; timeoutMs?: number } = {},
    ): Promise<{ id: string; event: RunEvent }[]> {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
      const res = await fetch(`${base}/v1/runs/${id}/events`, {
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'text/event-stream',
          ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
        },
        signal: controller.signal,
      });
      if (!res.body) throw new Error(`no event stream (HTTP ${res.status})`);
      const got: { id: string; event: RunEvent }[] = [];
      let stop = false;
      const parser = createParser({
        onEvent(m) {
          const event = JSON.parse(m.data) as RunEvent;
          got.push({ id: m.id ?? '', event });
          if (options.until?.(event)) stop = true;
        },
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      try {
        while (!stop) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } finally {
        clearTimeout(timer);
        await reader.cancel().catch(() => {});
      }
      return got;
    },
  };
}
