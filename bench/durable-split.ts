import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { openRedisJournal } from '../src/runs/journal.js';
import { runKeys } from '../src/runs/keys.js';
import { createBenchEngine } from './harness.js';
import { chainDocument, instantModel } from './service.js';
import { percentile, startRedisServer } from './support.js';

/**
 * Where a durable step's time goes (`npm run bench:durable`), measured interleaved in one process over a private
 * redis-server, medians of the rounds:
 * - a PING's round trip after this process kept its CPU busy for 0, 40, 80 or 160 µs while Redis sat idle (on a
 *   virtual machine, a server core idle long enough costs a wake-up on top of the round trip);
 * - one fenced journal write as a step makes it (`RunJournal.steps`: the held `agent.started`, the entry and
 *   `agent.completed` in one script call), right after the previous one and 2 ms after it (both processes idle
 *   meanwhile, as while a model answers);
 * - µs per step of a 4-agent sequential run, durable and in process (`bench/harness.ts`);
 * - what a durable step costs beyond the in-process step and its share of round trips (a 4-step run makes five
 *   fenced writes: the start and one per step).
 */
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const IDLE_GAPS_US = [0, 40, 80, 160];
const STEPS = 4;

/** Keeps this process's CPU busy for `us` microseconds (the server gets no request meanwhile). */
function busyFor(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // spin: a timer would let this core sleep too
  }
}

/** µs per PING round trip, each after `gapUs` of busy time. */
async function pingAfterIdle(redis: Redis, gapUs: number, n = 4_000): Promise<number> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    busyFor(gapUs);
    const t0 = performance.now();
    await redis.ping();
    total += performance.now() - t0;
  }
  return (total * 1000) / n;
}

/**
 * µs per fenced step write through the Redis journal: runs of four steps, each journal opened from `stored`; with
 * `idleMs`, this process sleeps that long between a step's start and its entry (as it does while a model
 * answers), not timed.
 */
async function fencedStepWrite(
  redis: Redis,
  prefix: string,
  round: number,
  { n = 4_000, idleMs = 0 } = {},
): Promise<number> {
  const text = 'An answer of about the length a short agent step returns. '.repeat(7);
  let total = 0;
  for (let run = 0; run < n / STEPS; run++) {
    const runId = `split-${idleMs}-${round}-${run}`;
    await redis.hset(runKeys(prefix, runId).record, 'attempt', '1');
    const journal = await openRedisJournal(redis, prefix, runId, {
      attempt: 1,
      stepEvents: true,
      stored: {},
    });
    const steps = journal.steps;
    if (!steps) throw new Error('a journal opened with stepEvents writes step events');
    for (let i = 0; i < STEPS; i++) {
      const agent = `step-${i}`;
      const step = `seq/${i}/agent:${agent}`;
      // As the engine does: the start right after the last confirmed write (so it is held), then the model call
      // (the idle time, not timed), then the entry, which carries the start.
      const t0 = performance.now();
      await steps.announce({ type: 'agent.started', agent, step });
      total += performance.now() - t0;
      if (idleMs > 0) await sleep(idleMs);
      const t1 = performance.now();
      await steps.complete(
        step,
        { kind: 'step', value: text, completedAt: new Date().toISOString() },
        {
          type: 'agent.completed',
          agent,
          step,
          durationMs: 0.2,
          attempts: 1,
          usage: { inputTokens: 120, outputTokens: 80 },
        },
      );
      total += performance.now() - t1;
    }
    await steps.flush();
  }
  return (total * 1000) / n;
}

/** µs per step of `runs` 4-agent sequential runs through the bench engine. */
async function perStep(engine: Awaited<ReturnType<typeof createBenchEngine>>, runs: number): Promise<number> {
  const team = chainDocument('chain-4', STEPS);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const outcome = await engine.run(team, 'sequential', 'measure me');
    if (outcome.status !== 'succeeded') throw new Error(`bench run ${outcome.status}`);
  }
  return ((performance.now() - t0) * 1000) / (runs * STEPS);
}

async function main() {
  const server = await startRedisServer();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const durable = await createBenchEngine({ durable: true, redisUrl: server.url, model: instantModel });
  const inProcess = await createBenchEngine({ durable: false, model: instantModel });
  const samples = new Map<string, number[]>();
  const add = (name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value]);
  try {
    // Warm-up: JIT, the scripts in the server's cache, the connections.
    await perStep(durable, 300);
    await perStep(inProcess, 1_000);
    await fencedStepWrite(redis, 'baton-split', -1, { n: 400 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const gap of IDLE_GAPS_US) add(`PING after ${gap} µs busy`, await pingAfterIdle(redis, gap));
      add('fenced step write', await fencedStepWrite(redis, 'baton-split', round));
      add(
        'fenced step write, 2 ms after the last',
        await fencedStepWrite(redis, 'baton-split', round, { n: 400, idleMs: 2 }),
      );
      add('durable step', await perStep(durable, 1_000));
      add('in-process step', await perStep(inProcess, 2_000));
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await durable.close();
    redis.disconnect();
    server.stop();
  }
  const median = (name: string) => percentile(samples.get(name) ?? [], 50);
  const rows: [string, number][] = [...samples.keys()].map((name) => [name, median(name)]);
  const beyond =
    median('durable step') - median('in-process step') - (5 / STEPS) * median('fenced step write');
  rows.push(['durable step beyond in-process + 5/4 writes', beyond]);
  console.log(`\nµs, medians of ${ROUNDS} interleaved rounds (Node ${process.version})\n`);
  console.log('| measure | µs |\n| --- | --- |');
  for (const [name, value] of rows) console.log(`| ${name} | ${value.toFixed(1)} |`);
}

await main();
