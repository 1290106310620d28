import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { toErrorInfo } from '../core/errors.js';
import { type BreakerSnapshot, worstState } from '../policies/breakers.js';

/**
 * Worker heartbeats: every worker process writes what it is and what it is doing to Redis every
 * `intervalMs`, under a key that expires after `ttlMs`. The fleet is whatever has a live key, so a worker
 * that dies (SIGKILL, lost node) disappears from the fleet view after at most `ttlMs`; a worker that shuts
 * down cleanly removes its key at once.
 *
 * Layout: `<prefix>:worker:<id>` holds the JSON heartbeat (PX ttl); `<prefix>:workers` is a sorted set of
 * worker ids scored by expiry time, so listing needs no SCAN. Stale index entries are pruned on read.
 */
export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  /** baton's package version. */
  version: string;
  /** Runs this worker executes at once (BATON_WORKER_CONCURRENCY). */
  concurrency: number;
  /** Runs executing now. */
  activeJobs: number;
  activeRuns: string[];
  /** Shutting down: takes no new jobs, lets in-flight runs reach a step boundary. */
  draining: boolean;
  startedAt: string;
  lastBeatAt: string;
  intervalMs: number;
  ttlMs: number;
  /** Circuit breaker per agent and model this worker has called (one never called is closed). */
  breakers: BreakerSnapshot[];
}

export function heartbeatKeys(prefix: string) {
  return { index: `${prefix}:workers`, worker: (id: string) => `${prefix}:worker:${id}` };
}

export interface HeartbeatOptions {
  redis: Redis;
  prefix: string;
  intervalMs: number;
  ttlMs: number;
  log: Logger;
  /** The live part of the heartbeat, read at each beat. */
  describe: () => Pick<WorkerHeartbeat, 'activeRuns' | 'breakers' | 'draining'>;
  identity: Pick<WorkerHeartbeat, 'id' | 'concurrency'> &
    Partial<Pick<WorkerHeartbeat, 'host' | 'pid' | 'version'>>;
}

export interface Heartbeat {
  /** Writes one heartbeat now (also done every interval). */
  beat(): Promise<void>;
  /** Stops beating and removes this worker from the fleet. */
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 2_000;

/** Waits for `promise` at most `ms` (it keeps running; the caller just stops waiting). */
async function bounded(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const { redis, prefix, intervalMs, ttlMs, log } = options;
  const keys = heartbeatKeys(prefix);
  const id = options.identity.id;
  const fixed = {
    id,
    host: options.identity.host ?? hostname(),
    pid: options.identity.pid ?? process.pid,
    version: options.identity.version ?? packageVersion(),
    concurrency: options.identity.concurrency,
    startedAt: new Date().toISOString(),
    intervalMs,
    ttlMs,
  };
  let stopped = false;
  let failing = false;
  let current: Promise<void> | undefined;
  let again = false;

  const write = async () => {
    if (stopped) return;
    const live = options.describe();
    const now = Date.now();
    const beat: WorkerHeartbeat = {
      ...fixed,
      activeJobs: live.activeRuns.length,
      activeRuns: live.activeRuns,
      draining: live.draining,
      lastBeatAt: new Date(now).toISOString(),
      breakers: live.breakers,
    };
    try {
      await redis
        .multi()
        .set(keys.worker(id), JSON.stringify(beat), 'PX', ttlMs)
        .zadd(keys.index, now + ttlMs, id)
        .exec();
      if (failing) log.info({ worker: id }, 'heartbeat restored');
      failing = false;
    } catch (err) {
      // Redis unreachable: keep beating; the fleet view shows this worker again once a beat gets through.
      if (!failing) log.warn({ err: toErrorInfo(err), worker: id }, 'heartbeat write failed');
      failing = true;
    }
  };
  /** One write at a time; a beat asked for during a write runs once right after it (never a backlog). */
  const beat = (): Promise<void> => {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      do {
        again = false;
        await write();
      } while (again && !stopped);
    })().finally(() => {
      current = undefined;
    });
    return current;
  };

  await bounded(beat(), STOP_WAIT_MS);
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();

  return {
    beat,
    async stop() {
      clearInterval(timer);
      stopped = true;
      // A write under way lands before the key is removed. Bounded: with Redis unreachable, the commands
      // would wait for a reconnect, and shutdown must not.
      await bounded(current ?? Promise.resolve(), STOP_WAIT_MS);
      await bounded(
        redis
          .multi()
          .del(keys.worker(id))
          .zrem(keys.index, id)
          .exec()
          .then(() => undefined),
        STOP_WAIT_MS,
      ).catch((err: unknown) => log.warn({ err: toErrorInfo(err) }, 'could not remove the heartbeat'));
    },
  };
}

/** The live workers (heartbeat not expired), oldest first. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerHeartbeat[]> {
  const keys = heartbeatKeys(prefix);
  await redis.zremrangebyscore(keys.index, '-inf', String(Date.now()));
  const ids = await redis.zrange(keys.index, '0', '-1');
  if (ids.length === 0) return [];
  const raw = await redis.mget(ids.map((id) => keys.worker(id)));
  const workers: WorkerHeartbeat[] = [];
  for (const value of raw) {
    if (!value) continue; // expired between the two reads
    try {
      workers.push(JSON.parse(value) as WorkerHeartbeat);
    } catch {
      // A malformed entry is not a worker; it expires on its own.
    }
  }
  return workers.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}

/** How an agent's circuit breaker stands across the fleet. Half-open counts as open: it admits only a probe. */
export type FleetBreakerSummary = 'closed on all' | 'open on some' | 'open on all';

export interface AgentFleetState {
  fleet: FleetBreakerSummary;
  workers: {
    worker: string;
    state: BreakerSnapshot['state'];
    lastFailure?: BreakerSnapshot['lastFailure'];
  }[];
}

/**
 * The breaker state of `agent` on every live worker: of the breaker of its own model when `ownModel` is set (what
 * every client may see), else the most severe of all its breakers. A worker that has not called the agent yet has
 * it closed. With no live workers the summary is `closed on all` and `workers` is empty.
 */
export function agentFleetState(
  agent: string,
  workers: readonly WorkerHeartbeat[],
  ownModel = false,
): AgentFleetState {
  const detail = workers.map((w) => {
    // A worker from before breakers were per model reports one breaker per agent: its own model's.
    const mine = w.breakers.filter((x) => x.agent === agent && (!ownModel || x.configured !== false));
    const worst = mine.reduce<BreakerSnapshot | undefined>(
      (a, b) => (!a || worstState(a.state, b.state) !== a.state ? b : a),
      undefined,
    );
    const lastFailure = mine
      .map((b) => b.lastFailure)
      .filter((f) => f !== undefined)
      .sort((a, b) => (a.at < b.at ? 1 : -1))[0];
    return {
      worker: w.id,
      state: worst?.state ?? ('closed' as const),
      ...(lastFailure ? { lastFailure } : {}),
    };
  });
  const open = detail.filter((d) => d.state !== 'closed').length;
  const fleet: FleetBreakerSummary =
    open === 0 ? 'closed on all' : open === detail.length ? 'open on all' : 'open on some';
  return { fleet, workers: detail };
}

let cachedVersion: string | undefined;

/** baton's version from the nearest package.json above this module (the same in src/ and dist/). */
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'baton' && pkg.version) {
          cachedVersion = pkg.version;
          return cachedVersion;
        }
      } catch {
        // not ours; keep looking
      }
    }
    dir = dirname(dir);
  }
  cachedVersion = 'unknown';
  return cachedVersion;
}
