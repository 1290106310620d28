import { cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import { createBenchEngine } from './harness.js';
import { chainDocument, instantModel, startBenchService } from './service.js';
import { percentile, startRedisServer } from './support.js';

/** Redis command calls by command (INFO commandstats; calls made inside Lua scripts are counted too). */
async function commandCalls(url: string): Promise<Map<string, number>> {
  const conn = new Redis(url);
  try {
    const calls = new Map<string, number>();
    for (const line of (await conn.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
      if (m?.[1] && m[1] !== 'info' && m[1] !== 'hello') calls.set(m[1], Number(m[2]));
    }
    return calls;
  } finally {
    conn.disconnect();
  }
}

/** Bytes Redis holds for data (INFO memory `used_memory`). */
async function usedMemory(url: string): Promise<number> {
  const conn = new Redis(url);
  try {
    return Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1] ?? Number.NaN);
  } finally {
    conn.disconnect();
  }
}

/** CPU seconds the Redis server has used (INFO cpu: user + system, main thread and children). */
async function redisCpuSeconds(url: string): Promise<number> {
  const conn = new Redis(url);
  try {
    const info = await conn.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
    return field('used_cpu_user') + field('used_cpu_sys');
  } finally {
    conn.disconnect();
  }
}

/** Commands per run between two `commandCalls` snapshots: the total and the largest few by name. */
function perRun(before: Map<string, number>, after: Map<string, number>, runs: number) {
  const by = [...after]
    .map(([name, n]) => [name, (n - (before.get(name) ?? 0)) / runs] as const)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1]);
  const total = by.reduce((sum, [, n]) => sum + n, 0);
  const detail = by
    .slice(0, 6)
    .map(([name, n]) => `${name} ${n.toFixed(1)}`)
    .join(', ');
  return { total, detail };
}

/**
 * One Redis round trip from ioredis (PING after PING on one connection): the floor under a durable step, which
 * waits for one round trip. Wall and CPU (user + system of this process) µs per round trip.
 */
async function redisRoundTrip(url: string) {
  const conn = new Redis(url);
  try {
    for (let i = 0; i < 2_000; i++) await conn.ping();
    const n = 20_000;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) await conn.ping();
    const wallUs = ((performance.now() - started) * 1000) / n;
    const cpu = process.cpuUsage(cpuBefore);
    return { wallUs, cpuUs: (cpu.user + cpu.system) / n };
  } finally {
    conn.disconnect();
  }
}

/**
 * µs per agent step through the stable entry point (bench/harness.ts): a 4-agent sequential chain over a model
 * that answers at once, in process or with the Redis journal and event log; mean and median over the runs.
 */
async function engineOverhead(durable: boolean, redisUrl: string) {
  const engine = await createBenchEngine({ durable, redisUrl, model: instantModel });
  const team = chainDocument('chain-4', 4);
  const steps = 4;
  const warmUp = durable ? 300 : 1_000;
  const runs = durable ? 2_000 : 10_000;
  for (let i = 0; i < warmUp; i++) await engine.run(team, 'sequential', 'measure me');
  const before = await commandCalls(redisUrl);
  const redisCpuBefore = await redisCpuSeconds(redisUrl);
  const cpuBefore = process.cpuUsage();
  const each: number[] = [];
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const outcome = await engine.run(team, 'sequential', 'measure me');
    each.push(performance.now() - t0);
    if (outcome.status !== 'succeeded') throw new Error(`bench run ${outcome.status}`);
  }
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuSeconds(redisUrl)) - redisCpuBefore;
  const commands = perRun(before, await commandCalls(redisUrl), runs);
  await engine.close();
  return {
    // CPU per step of the engine alone (what a worker spends) and of redis-server (zero in process).
    cpuUsPerStep: (cpu.user + cpu.system) / (runs * steps),
    redisCpuUsPerStep: durable ? (redisCpu * 1e6) / (runs * steps) : 0,
    meanUs: (elapsed * 1000) / (runs * steps),
    p50Us: (percentile(each, 50) * 1000) / steps,
    commands,
  };
}

async function endToEnd(url: string) {
  const service = await startBenchService(url, { 'chain-1': 1, 'chain-4': 4 });
  const oneRun = service.oneRun;

  const results: Record<
    string,
    {
      p50: number;
      p95: number;
      runsPerSecond: number;
      commands: ReturnType<typeof perRun>;
      redisMbPer10k: number;
      apiCpuUsPerRun: number;
      workerCpuUsPerRun: number;
      loadCpuUsPerRun: number;
      redisCpuUsPerRun: number;
    }
  > = {};
  for (const team of ['chain-1', 'chain-4']) {
    // Enough clients to saturate the two cores: throughput is measured at saturation, latency (below) one run at
    // a time.
    const clients = 128;
    // 10,000 runs first, counted as they are: finished runs stay (record, journal, events) until the default
    // retention expires them, and what is capped by count or by time (completed jobs, windows) shows as capped.
    const memoryBefore = await usedMemory(url);
    let finished = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (finished < 10_000) {
          finished += 1;
          const nth = finished;
          await oneRun(team);
          if (nth % 2_000 === 0)
            process.stderr.write(`  ${team}: ${nth} of 10,000 runs for the memory count\n`);
        }
      }),
    );
    const redisMbPer10k = ((await usedMemory(url)) - memoryBefore) / 2 ** 20;
    // They are also the warm-up: the API and worker processes are measured as a service that has been running a
    // while (its code optimised by V8), not in their first runs.
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) latencies.push(await oneRun(team));
    const perClient = 25;
    const before = await commandCalls(url);
    const redisCpuBefore = await redisCpuSeconds(url);
    const cpuBefore = process.cpuUsage();
    const serviceBefore = await service.serviceCpu();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < perClient; i++) await oneRun(team);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serviceAfter = await service.serviceCpu();
    const redisCpu = (await redisCpuSeconds(url)) - redisCpuBefore;
    const commands = perRun(before, await commandCalls(url), clients * perClient);
    results[team] = {
      commands,
      // CPU per run of the API and worker processes and of redis-server: what the capacity model in
      // docs/operations.md divides a core by. The load generator (this process) is shown apart.
      apiCpuUsPerRun: (serviceAfter.api - serviceBefore.api) / (clients * perClient),
      workerCpuUsPerRun: (serviceAfter.worker - serviceBefore.worker) / (clients * perClient),
      loadCpuUsPerRun: (cpu.user + cpu.system) / (clients * perClient),
      redisCpuUsPerRun: (redisCpu * 1e6) / (clients * perClient),
      redisMbPer10k,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      runsPerSecond: (clients * perClient) / seconds,
    };
  }
  await service.close();
  return results;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
const redis = await startRedisServer();
try {
  const memory = await engineOverhead(false, redis.url);
  const durable = await engineOverhead(true, redis.url);
  const roundTrip = await redisRoundTrip(redis.url);
  const e2e = await endToEnd(redis.url);
  console.log(
    '\n| measure | mean | p50 | p95 | throughput | Redis commands per run |\n|---|---|---|---|---|---|',
  );
  console.log(
    `| engine in-process, µs per agent step (4-agent chain) | ${memory.meanUs.toFixed(1)} µs | ${memory.p50Us.toFixed(1)} µs | | | 0 |`,
  );
  console.log(
    `| engine durable (Redis journal and events), µs per agent step | ${durable.meanUs.toFixed(1)} µs | ${durable.p50Us.toFixed(1)} µs | | | ${durable.commands.total.toFixed(1)} (${durable.commands.detail}) |`,
  );
  for (const [team, r] of Object.entries(e2e)) {
    console.log(
      `| service, ${team.replace('chain-', '')}-agent run (API → Redis → worker → SSE) | | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.runsPerSecond.toFixed(0)} runs/s | ${r.commands.total.toFixed(1)} (${r.commands.detail}) |`,
    );
  }
  console.log(
    `\nCPU per agent step of the engine: ${memory.cpuUsPerStep.toFixed(1)} µs in process; durable ${durable.cpuUsPerStep.toFixed(1)} µs in the engine's process and ${durable.redisCpuUsPerStep.toFixed(1)} µs in redis-server`,
  );
  console.log(
    `\nOne Redis round trip (PING after PING from ioredis): ${roundTrip.wallUs.toFixed(1)} µs, ${roundTrip.cpuUs.toFixed(1)} µs of it CPU in this process`,
  );
  for (const [team, r] of Object.entries(e2e)) {
    console.log(
      `\nCPU per ${team.replace('chain-', '')}-agent run: ${r.apiCpuUsPerRun.toFixed(0)} µs in the API process, ${r.workerCpuUsPerRun.toFixed(0)} µs in the worker, ${r.redisCpuUsPerRun.toFixed(0)} µs in redis-server (and ${r.loadCpuUsPerRun.toFixed(0)} µs in the load generator)`,
    );
  }
  for (const [team, r] of Object.entries(e2e)) {
    console.log(
      `\nRedis memory, ${team.replace('chain-', '')}-agent runs: ${r.redisMbPer10k.toFixed(1)} MB per 10,000 finished runs (default retention)`,
    );
  }
} finally {
  redis.stop();
}
process.exit(0);
