import { Redis } from 'ioredis';
import { startBenchService } from './service.js';
import { startRedisClusterNodes } from './support.js';

/**
 * How a run's Redis work divides over a Redis Cluster: the service (API and worker processes, instant model) on
 * three masters started here, warmed up, then 1-agent and 4-agent runs from 128 clients, and each master's
 * commands and CPU per run (INFO commandstats and INFO cpu deltas). One master also serves the slot of the `{prefix}` tag (the queue,
 * the indexes, the tenants' counters); each serves a third of the runs' own slots. The shared slot's cost per run
 * is that master's figure less the mean of the other two.
 */

const masters = 3;
const clients = 128;
const perClient = Number(process.env.BENCH_CLUSTER_RUNS_PER_CLIENT ?? 10);
/** Runs before anything is measured, as in `npm run bench`: a service that has been running a while. */
const warmUpRuns = 3_000;

async function nodeStats(url: string): Promise<{ calls: number; cpuSeconds: number }> {
  const conn = new Redis(url);
  try {
    let calls = 0;
    for (const line of (await conn.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
      if (m?.[1] && !['info', 'cluster', 'hello', 'ping', 'command'].includes(m[1])) calls += Number(m[2]);
    }
    const cpu = await conn.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? Number.NaN);
    return { calls, cpuSeconds: field('used_cpu_user') + field('used_cpu_sys') };
  } finally {
    conn.disconnect();
  }
}

const cluster = await startRedisClusterNodes(masters, 0);
try {
  // Let the nodes agree on the slots before the service connects.
  const seed = new Redis(cluster.nodes[0]?.url ?? '');
  for (let i = 0; !/cluster_state:ok/.test(String(await seed.call('CLUSTER', 'INFO'))); i++) {
    if (i > 200) throw new Error('the cluster did not become ok');
    await new Promise((r) => setTimeout(r, 50));
  }
  const shardOf = async (key: string) => {
    const slot = Number(await seed.call('CLUSTER', 'KEYSLOT', key));
    const shards = (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    return Number(shards.find(([from, to]) => slot >= from && slot <= to)?.[2][1]);
  };
  const urls = cluster.nodes.map((n) => n.url).join(',');
  const service = await startBenchService(
    urls,
    { 'chain-1': 1, 'chain-4': 4 },
    { BATON_REDIS_CLUSTER: 'true' },
  );
  const sharedPort = await shardOf(`${service.config.redisPrefix}:runs:wait`);
  console.log(
    `Redis Cluster of ${masters} masters; the {prefix} slot (${service.config.redisPrefix}) on :${sharedPort}\n`,
  );
  console.log(
    '| runs | master | slots it serves | commands per run | redis CPU µs per run |\n|---|---|---|--:|--:|',
  );
  for (const team of ['chain-1', 'chain-4']) {
    let warmed = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (warmed < warmUpRuns) {
          warmed += 1;
          await service.oneRun(team);
        }
      }),
    );
    const before = await Promise.all(cluster.nodes.map((n) => nodeStats(n.url)));
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < perClient; i++) await service.oneRun(team);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const after = await Promise.all(cluster.nodes.map((n) => nodeStats(n.url)));
    const runs = clients * perClient;
    const rows = cluster.nodes.map((n, i) => ({
      port: n.port,
      shared: n.port === sharedPort,
      calls: ((after[i]?.calls ?? 0) - (before[i]?.calls ?? 0)) / runs,
      cpuUs: (((after[i]?.cpuSeconds ?? 0) - (before[i]?.cpuSeconds ?? 0)) * 1e6) / runs,
    }));
    for (const r of rows) {
      console.log(
        `| ${team} | :${r.port} | ${r.shared ? 'a third of the runs’ + the {prefix} slot' : 'a third of the runs’'} | ${r.calls.toFixed(1)} | ${r.cpuUs.toFixed(0)} |`,
      );
    }
    const shared = rows.find((r) => r.shared);
    const others = rows.filter((r) => !r.shared);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (shared) {
      const runCalls = mean(others.map((r) => r.calls));
      const runCpu = mean(others.map((r) => r.cpuUs));
      console.log(
        `| ${team} | the {prefix} slot alone (shared − mean of the others) | | ${(shared.calls - runCalls).toFixed(1)} | ${(shared.cpuUs - runCpu).toFixed(0)} |`,
      );
      console.log(
        `| ${team} | the runs’ own slots, all masters (3 × mean of the others) | | ${(3 * runCalls).toFixed(1)} | ${(3 * runCpu).toFixed(0)} |`,
      );
    }
    console.log(`| ${team} | throughput | | ${(runs / seconds).toFixed(0)} runs/s | |`);
  }
  seed.disconnect();
  await service.close();
} finally {
  await cluster.stop();
}
process.exit(0);
