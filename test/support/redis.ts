import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

import { freePort, RedisExitedError, waitForRedis } from '../../bench/support.js';

export { freePort, waitForRedis };

export interface TestRedis {
  url: string;
  /** A fresh key prefix, so suites sharing a `REDIS_URL` never see each other's keys. */
  prefix: string;
  stop(): Promise<void>;
}

/**
 * A Redis for one test file: `REDIS_URL` when set (with a unique key prefix), otherwise a private
 * `redis-server` on a free port with persistence off, stopped by `stop()`.
 *
 * The private server runs in cluster mode as a cluster of one node that serves every slot, and the prefix is a
 * hash tag (`{t…}`: the Redis Cluster key layout), so the whole suite runs under the cluster's rule that a
 * script, transaction or multi-key command touches one slot only: a command that breaks it fails here with
 * CROSSSLOT, not first on a customer's cluster. `{ layout: 'plain' }` starts a single Redis and gives a plain
 * prefix (the default layout, whose multi-key commands a cluster would refuse).
 */
export async function startRedis(options: { layout?: 'cluster' | 'plain' } = {}): Promise<TestRedis> {
  const cluster = options.layout !== 'plain';
  const id = `t${randomUUID().slice(0, 8)}`;
  const prefix = cluster ? `{${id}}` : id;
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, prefix, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'baton-redis-'));
  const { child, url } = await spawnRedis(dir, cluster);
  if (cluster) await serveEverySlot(url);
  return {
    url,
    prefix,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A `redis-server` without persistence on a free port, logging to `dir`; in cluster mode its cluster bus gets a
 * free port of its own too (the default, the port + 10,000, lies in the kernel's ephemeral range). A server that
 * exits before it answers (a port was taken between the check and its bind) is started again on other ports,
 * twice at most; the error then carries its log.
 */
async function spawnRedis(dir: string, cluster: boolean): Promise<{ child: ChildProcess; url: string }> {
  const logfile = join(dir, 'redis.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const clusterArgs = cluster
      ? ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort(port))]
      : [];
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--daemonize', 'no', '--dir', dir, '--logfile', logfile, ...clusterArgs],
      ],
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}`;
    try {
      await waitForRedis(url, child);
      return { child, url };
    } catch (err) {
      if (!(err instanceof RedisExitedError)) child.kill('SIGKILL');
      if (err instanceof RedisExitedError && attempt < 3) continue;
      const log = await readFile(logfile, 'utf8').catch(() => '(no log)');
      throw new Error(`${(err as Error).message}; its log:\n${log.slice(-2_000)}`);
    }
  }
}

/** Makes the cluster-mode node at `url` serve all 16,384 slots and waits until its cluster state is ok. */
async function serveEverySlot(url: string): Promise<void> {
  const node = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    await node.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; !/cluster_state:ok/.test(String(await node.call('CLUSTER', 'INFO'))); i++) {
      if (i > 200) throw new Error(`the cluster node at ${url} did not reach cluster_state:ok`);
      await sleep(25);
    }
  } finally {
    node.disconnect();
  }
}

/** A prefix of its own beside `prefix` (`{t1234}` and `abc` make `{t1234abc}`): still a hash tag when it was one. */
export function subPrefix(prefix: string, suffix: string): string {
  return prefix.endsWith('}') ? `${prefix.slice(0, -1)}${suffix}}` : `${prefix}${suffix}`;
}
