import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { freePort } from '../../bench/support.js';
import { seededRandom } from '../../src/core/random.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { analyse, passed } from './checks.js';
import { gatherEvidence } from './evidence.js';
import { type Deployment, Faults } from './faults.js';
import { ApiClient, listRuns, runSpecs, type Submission, submitAll } from './load.js';
import {
  assertBuilt,
  MODEL_DEPLOYMENT,
  MODEL_KEY,
  Supervisor,
  startApi,
  startModelServer,
  startRedis,
} from './processes.js';
import { type ChaosSummary, createProgress, formatReport, type ProgressState, writeJson } from './report.js';

/**
 * `npm run chaos`: a repeatable chaos check of a real deployment on this machine. It starts a persistent
 * redis-server, a counting model server, one `baton api` and W `baton worker` processes (the built CLI), posts
 * N news-desk runs through the API while SIGKILLing a random worker every few seconds and restarting the API
 * and Redis once, waits for the runs to settle, then checks that no run was lost, stuck or duplicated and that
 * no journaled model call was made again. Exit code 0 when all four are zero.
 */

const CLIENT_KEY = 'chaos-client-key-aaaaaaaaaaaaaaaa';
const PREFIX = 'baton';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const WORKER_READY = 'worker ready';

function int(min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a fraction 0–1');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

interface Flags {
  runs: number;
  workers: number;
  killIntervalMs: number;
  restartApiAt: number;
  restartRedisAt: number;
  restarts: boolean;
  downMs: number;
  settleTimeoutMs: number;
  quietMs: number;
  submitRate: number;
  modelLatencyMs: number;
  workerConcurrency: number;
  lockMs: number;
  stalledIntervalMs: number;
  seed?: number;
  json?: string;
  keepLogs?: boolean;
}

const program = new Command()
  .name('npm run chaos --')
  .description(
    'Kill workers and restart the API and Redis under load; check that no run is lost, stuck or duplicated and no journaled model call is repeated.',
  )
  .option('--runs <n>', 'runs to submit', int(1), 100)
  .option('--workers <n>', 'worker processes', int(1), 3)
  .option('--kill-interval-ms <ms>', 'SIGKILL a random worker this often', int(50), 2_000)
  .option('--restart-api-at <fraction>', 'restart the API after this fraction of the runs', fraction, 0.3)
  .option('--restart-redis-at <fraction>', 'restart Redis after this fraction of the runs', fraction, 0.6)
  .option('--no-restarts', 'do not restart the API or Redis')
  .option('--down-ms <ms>', 'how long the API and Redis stay down when restarted', int(0), 1_000)
  .option('--settle-timeout-ms <ms>', 'longest wait for the runs to finish after the load', int(0), 120_000)
  .option('--quiet-ms <ms>', 'stop waiting once nothing has changed for this long', int(1_000), 20_000)
  .option('--submit-rate <runs/s>', 'how fast runs are posted', positive, 4)
  .option('--model-latency-ms <ms>', 'the model server answers each call after this delay', int(0), 400)
  .option('--worker-concurrency <n>', 'runs one worker executes at once', int(1), 8)
  .option('--lock-ms <ms>', 'BATON_JOB_LOCK_MS of the workers', int(1_000), 2_000)
  .option('--stalled-interval-ms <ms>', 'BATON_STALLED_INTERVAL_MS of the workers', int(500), 1_000)
  .option('--seed <n>', 'seed of the choice of worker to kill (default: random, printed)', int(0))
  .option('--json <file>', 'write the numbers and the findings as JSON')
  .option('--keep-logs', 'keep the processes’ logs and the Redis data directory (path printed)')
  // Exit code 1 means "the checks failed": a bad flag must not look like that.
  .exitOverride();

async function main(): Promise<number> {
  const flags = program.parse(process.argv).opts<Flags>();
  assertBuilt();
  const seed = flags.seed ?? Math.floor(Math.random() * 1_000_000);
  const session = randomBytes(4).toString('hex');
  const tmp = mkdtempSync(join(tmpdir(), 'baton-chaos-'));
  const sup = new Supervisor(join(tmp, 'logs'));

  let torndown = false;
  const teardown = async () => {
    if (torndown) return;
    torndown = true;
    await sup.stopAll((p) => p.name.startsWith('worker-') || p.name.startsWith('api-'));
    if (flags.keepLogs) process.stderr.write(`logs and Redis data kept in ${tmp}\n`);
    else rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', () => {
    sup.killAllNow();
    if (!flags.keepLogs) rmSync(tmp, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything the chaos check started\n`);
      void teardown().finally(() => process.exit(130));
    });
  }

  try {
    return await runChaos(flags, seed, session, tmp, sup);
  } finally {
    await teardown();
  }
}

async function runChaos(flags: Flags, seed: number, session: string, tmp: string, sup: Supervisor) {
  const out = process.stdout;
  out.write(
    `starting redis-server, the model server, baton api and ${flags.workers} worker${flags.workers === 1 ? '' : 's'}…\n`,
  );
  const redisDir = join(tmp, 'redis');
  const redis = await startRedis(sup, await freePort(), redisDir, 1);
  const model = await startModelServer(sup, flags.modelLatencyMs);
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: PREFIX,
    BATON_MODEL_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: `${model.url}/openai/v1`,
    OPENAI_API_KEY: MODEL_KEY,
    BATON_MODEL: MODEL_DEPLOYMENT,
    BATON_JOB_LOCK_MS: String(flags.lockMs),
    BATON_STALLED_INTERVAL_MS: String(flags.stalledIntervalMs),
    BATON_WORKER_CONCURRENCY: String(flags.workerConcurrency),
    BATON_HEARTBEAT_INTERVAL_MS: '1000',
    BATON_HEARTBEAT_TTL_MS: '3000',
    // Runs whose job ended without ending them are found within seconds, not the production 15 s.
    BATON_RECONCILE_INTERVAL_MS: '2000',
    LOG_LEVEL: 'info',
  };
  const apiEnv: NodeJS.ProcessEnv = {
    ...common,
    BATON_API_KEYS: `${CLIENT_KEY}:client`,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    // The check polls the run list while it posts; a per-client request limit would turn that into 429s.
    BATON_RATE_LIMIT_PER_MINUTE: '0',
  };
  const deployment: Deployment = {
    sup,
    apiUrl,
    apiEnv,
    workerEnv: common,
    redisDir,
    redis,
    api: await startApi(sup, 'api-1', apiUrl, apiEnv),
    workers: [],
  };
  const faults = new Faults(deployment, seededRandom(seed), (w) => sup.logged(w, WORKER_READY));
  const first = Array.from({ length: flags.workers }, () => faults.startWorker());
  await Promise.all(first.map((w) => sup.waitForLog(w, WORKER_READY, 30_000)));

  const client = new ApiClient(apiUrl, CLIENT_KEY);
  const specs = runSpecs(flags.runs, session);
  const at = (f: number) => Math.min(flags.runs - 1, Math.floor(f * flags.runs));
  const restartApiAt = flags.restarts ? at(flags.restartApiAt) : -1;
  const restartRedisAt = flags.restarts ? at(flags.restartRedisAt) : -1;

  const state: ProgressState = {
    phase: 'load',
    submitted: 0,
    accepted: 0,
    terminal: 0,
    kills: 0,
    restarts: '',
  };
  const accepted = new Set<string>();
  const progress = createProgress(flags.runs, out);
  const restartsLabel = () =>
    flags.restarts
      ? `api ${faults.log.apiRestarts ? 'restarted' : `at run ${restartApiAt}`} · redis ${faults.log.redisRestarts ? 'restarted' : `at run ${restartRedisAt}`}`
      : 'no restarts';
  const refresh = () => {
    state.kills = faults.log.kills;
    state.accepted = accepted.size;
    state.restarts = restartsLabel();
    progress.update(state);
  };

  /** The run list as the API serves it; undefined while the API (or Redis) cannot answer. */
  const snapshot = async (): Promise<RunRecord[] | undefined> => {
    try {
      return await listRuns(client, 5_000);
    } catch {
      return undefined;
    }
  };
  const countTerminal = (runs: readonly RunRecord[]) =>
    runs.filter((r) => accepted.has(r.id) && TERMINAL.has(r.status)).length;

  // Load and chaos.
  const loadStarted = Date.now();
  faults.beginTimeline();
  let loadDone = false;
  const restarts: Promise<void>[] = [];
  const killing = faults.killLoop(flags.killIntervalMs, () => loadDone);
  const monitoring = (async () => {
    while (!loadDone) {
      const runs = await snapshot();
      if (runs) state.terminal = countTerminal(runs);
      refresh();
      await sleep(2_000);
    }
  })();
  let submissions: Submission[];
  try {
    submissions = await submitAll(
      client,
      specs,
      flags.submitRate,
      {
        before(index) {
          state.submitted = index + 1;
          if (index === restartApiAt) restarts.push(faults.restartApi(flags.downMs));
          if (index === restartRedisAt) restarts.push(faults.restartRedis(flags.downMs));
        },
        done(s) {
          if (s.runId) accepted.add(s.runId);
          refresh();
        },
        shouldStop: () => false,
      },
      // A run that cannot be posted for this long is reported as not accepted.
      60_000,
    );
  } finally {
    loadDone = true;
    await Promise.allSettled([killing, monitoring]);
  }
  const restartOutcomes = await Promise.allSettled(restarts);
  for (const r of restartOutcomes) {
    if (r.status === 'rejected') throw new Error(`a restart failed: ${String(r.reason)}`);
  }
  const loadMs = Date.now() - loadStarted;

  // Settle: until every accepted run is terminal, nothing changes any more, or the timeout.
  state.phase = 'settle';
  const settleStarted = Date.now();
  let settledBy = `timeout after ${flags.settleTimeoutMs} ms`;
  let fingerprint = '';
  let changedAt = Date.now();
  while (Date.now() - settleStarted < flags.settleTimeoutMs) {
    const runs = await snapshot();
    if (runs) {
      state.terminal = countTerminal(runs);
      const now = runs
        .map((r) => `${r.id}:${r.status}:${r.attempt}:${r.steps.length}:${r.usage.modelCalls}`)
        .sort()
        .join(',');
      if (now !== fingerprint) {
        fingerprint = now;
        changedAt = Date.now();
      }
      if (state.terminal === accepted.size) {
        settledBy = 'every accepted run terminal';
        break;
      }
      if (Date.now() - changedAt >= flags.quietMs) {
        settledBy = `nothing changed for ${Math.round(flags.quietMs / 1000)} s`;
        break;
      }
    }
    refresh();
    await sleep(2_000);
  }
  refresh();
  progress.stop();
  const settleMs = Date.now() - settleStarted;

  out.write('checking…\n');
  const evidence = await gatherEvidence({
    session,
    specs,
    submissions,
    client,
    redisUrl: deployment.redis.url,
    prefix: PREFIX,
    modelUrl: model.url,
  });
  const findings = analyse(evidence);
  const summary: ChaosSummary = {
    runs: flags.runs,
    workers: flags.workers,
    killIntervalMs: flags.killIntervalMs,
    kills: faults.log.kills,
    apiRestarts: faults.log.apiRestarts,
    redisRestarts: faults.log.redisRestarts,
    loadMs,
    settleMs,
    settledBy,
    // Workers and the API are SIGKILLed on purpose; anything else that exited did so on its own.
    unexpectedExits: [...sup.unexpectedExits],
    timeline: faults.log.timeline,
    seed,
  };
  out.write(formatReport(findings, summary));
  if (flags.json) writeJson(flags.json, findings, summary);
  return passed(findings) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
