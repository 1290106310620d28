import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/**
 * Shared by the benchmarks and the tests: free ports, a private redis-server without persistence and the wait for
 * one, a private Redis Cluster, percentiles of samples, and a child's environment without telemetry settings.
 */

/** Starts a `redis-server` on a free port with nothing kept on disk (persistence would be measured too). */
export async function startRedisServer(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url, child);
  return { url, stop: () => child.kill() };
}

/**
 * Resolves once a Redis at `url` answers PING (a redis-server just spawned); throws after about 15 s, or as soon
 * as `child`, the server's process when given, has exited.
 */
export async function waitForRedis(url: string, child?: ChildProcess): Promise<void> {
  const probe = new Redis(url, {
    ...{ lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null },
    ...{ connectTimeout: 1_000, commandTimeout: 1_000 },
  });
  probe.on('error', () => {});
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        if (child && (child.exitCode !== null || child.signalCode !== null)) {
          throw new RedisExitedError(url, child.exitCode ?? child.signalCode);
        }
        if (Date.now() > deadline) throw new Error(`redis-server did not answer at ${url}`);
        await sleep(50);
      }
    }
  } finally {
    probe.disconnect();
  }
}

export class RedisExitedError extends Error {
  constructor(url: string, exit: number | string | null) {
    super(`redis-server for ${url} exited (${exit}) before it answered`);
  }
}

/** The p-th percentile (nearest rank) of the samples; NaN for none. */
export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/**
 * A TCP port free on 127.0.0.1 now, for a server that a child process binds next. It is chosen below the
 * kernel's ephemeral range on purpose: a port from `listen(0)` comes from that range, and between its release and
 * the child's bind any outgoing connection (a test suite opens thousands) may take it as its source port, so the
 * child fails to bind, or, after a restart on the same port, finds it taken. `besides`: ports chosen already for
 * the same child.
 */
export async function freePort(...besides: number[]): Promise<number> {
  const below = ephemeralPortsStart();
  const lowest = 10_000;
  for (let i = 0; below - lowest > 1_000 && i < 100; i++) {
    const port = lowest + Math.floor(Math.random() * (below - lowest));
    if (!besides.includes(port) && (await canListen(port))) return port;
  }
  return listenOnAnyPort();
}

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralPortsStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 0 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function listenOnAnyPort(): Promise<number> {
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

export interface ClusterNode {
  port: number;
  url: string;
  child: ChildProcess;
}

/**
 * A local Redis Cluster of `masters` masters with `replicas` replicas each: one `redis-server --cluster-enabled
 * yes` per node on a free port, nothing kept on disk, joined by `redis-cli --cluster create` (which assigns the
 * slots and the replicas). A node timeout of 1 s lets a replica take over within seconds when its master dies.
 * Resolves once the nodes are joined; `stop()` kills them and removes their folder.
 */
export async function startRedisClusterNodes(
  masters: number,
  replicas: number,
): Promise<{ nodes: ClusterNode[]; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-cluster-'));
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort();
    // The cluster bus's default port (the port + 10,000) lies in the kernel's ephemeral range: it gets its own.
    const busPort = await freePort(port);
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--daemonize', 'no', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
        ...['--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000'],
      ],
      { stdio: 'ignore' },
    );
    nodes.push({ port, url: `redis://127.0.0.1:${port}`, child });
  }
  const stop = async () => {
    await Promise.all(
      nodes
        .filter((n) => n.child.exitCode === null && n.child.signalCode === null)
        .map(async (n) => {
          const exited = new Promise((r) => n.child.once('exit', r));
          n.child.kill('SIGKILL');
          await exited;
        }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) await waitForRedis(n.url, n.child);
    await promisify(execFile)('redis-cli', [
      ...['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`)],
      ...['--cluster-replicas', String(replicas), '--cluster-yes'],
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, stop };
}

/**
 * This process's environment for a child whose telemetry is set explicitly: without any telemetry settings, Node
 * options or test-runner variables (so the machine's and the runner's cannot leak in), plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('OTEL_') || key.startsWith('APPLICATIONINSIGHTS_') || key.startsWith('BATON_'))
      continue;
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_ENV') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}
