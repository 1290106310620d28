import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  /** A fresh key prefix, so suites sharing a `REDIS_URL` never see each other's keys. */
  prefix: string;
  stop(): Promise<void>;
}

/**
 * A Redis for one test file: `REDIS_URL` when set (with a unique key prefix), otherwise a private
 * `redis-server` on a free port with persistence off, stopped by `stop()`.
 */
/** Resolves once a Redis at `url` answers PING (a redis-server just spawned); throws after about 5 s. */
export async function waitForRedis(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error(`redis-server did not answer at ${url}`);
      probe.disconnect();
      await sleep(50);
    }
  }
  probe.disconnect();
}

export async function startRedis(): Promise<TestRedis> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, prefix, stop: async () => {} };
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url);
  return {
    url,
    prefix,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
