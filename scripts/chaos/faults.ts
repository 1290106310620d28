import { setTimeout as sleep } from 'node:timers/promises';
import type { Managed, RedisHandle, Supervisor } from './processes.js';
import { startApi, startBaton, startRedis } from './processes.js';

/**
 * The faults the chaos check injects into a running deployment: worker processes SIGKILLed one at a time (each
 * replaced at once, as an orchestrator would), one API restart and one Redis restart.
 */

export interface Deployment {
  sup: Supervisor;
  apiUrl: string;
  apiEnv: NodeJS.ProcessEnv;
  workerEnv: NodeJS.ProcessEnv;
  redisDir: string;
  redis: RedisHandle;
  api: Managed;
  workers: Managed[];
}

export interface FaultLog {
  kills: number;
  apiRestarts: number;
  redisRestarts: number;
  /** What happened when, in ms since the load started: for reading the logs of a failed check. */
  timeline: { atMs: number; what: string }[];
}

export class Faults {
  readonly log: FaultLog = { kills: 0, apiRestarts: 0, redisRestarts: 0, timeline: [] };
  private workerCount = 0;
  private started = Date.now();

  constructor(
    private readonly d: Deployment,
    private readonly random: () => number,
    /** Whether a worker has finished starting (it may hold jobs). */
    private readonly ready: (w: Managed) => boolean,
  ) {}

  /** The timeline counts from here (the start of the load). */
  beginTimeline(): void {
    this.started = Date.now();
  }

  private note(what: string): void {
    this.log.timeline.push({ atMs: Date.now() - this.started, what });
  }

  startWorker(): Managed {
    this.workerCount += 1;
    const w = startBaton(this.d.sup, 'worker', `worker-${this.workerCount}`, this.d.workerEnv);
    this.d.workers.push(w);
    return w;
  }

  /**
   * SIGKILLs a random worker and starts its replacement. The victim is chosen among the workers that are ready
   * (they hold jobs, so the kill strands runs); only when none is does a starting one go.
   */
  async killRandomWorker(): Promise<void> {
    const live = this.d.workers.filter((w) => w.alive());
    const ready = live.filter(this.ready);
    const pool = ready.length > 0 ? ready : live;
    const victim = pool[Math.floor(this.random() * pool.length)];
    if (victim) {
      await this.d.sup.kill(victim, 'SIGKILL');
      this.log.kills += 1;
      this.note(`SIGKILL ${victim.name}`);
    }
    this.d.workers = this.d.workers.filter((w) => w.alive());
    const replacement = this.startWorker();
    this.note(`started ${replacement.name}`);
  }

  /** Kills a worker every `intervalMs` until `stop()` says so. */
  async killLoop(intervalMs: number, stop: () => boolean): Promise<void> {
    for (;;) {
      await sleep(intervalMs);
      if (stop()) return;
      await this.killRandomWorker();
    }
  }

  /** SIGKILL the API; after `downMs`, start a new one on the same port. */
  async restartApi(downMs: number): Promise<void> {
    await this.d.sup.kill(this.d.api, 'SIGKILL');
    this.note('SIGKILL api');
    await sleep(downMs);
    this.d.api = await startApi(this.d.sup, `api-${this.log.apiRestarts + 2}`, this.d.apiUrl, this.d.apiEnv);
    this.log.apiRestarts += 1;
    this.note('api ready again');
  }

  /** SIGKILL redis-server; after `downMs`, start it again on the same port and data directory. */
  async restartRedis(downMs: number): Promise<void> {
    await this.d.sup.kill(this.d.redis.process, 'SIGKILL');
    this.note('SIGKILL redis-server');
    await sleep(downMs);
    this.d.redis = await startRedis(
      this.d.sup,
      this.d.redis.port,
      this.d.redisDir,
      this.log.redisRestarts + 2,
    );
    this.log.redisRestarts += 1;
    this.note('redis-server ready again');
  }
}
