import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, percentile, startRedisServer } from './support.js';

/**
 * A worker process's resident memory (RSS) with 1,000 runs in flight. A private redis-server, an API process and
 * a separate worker process, both started from the built CLI as in production (`node --import
 * dist/src/telemetry/preload.js dist/src/cli.js api|worker`, telemetry off). The simulated model answers after
 * BENCH_LATENCY_MS (default 20 s) per call, so every run of the shipped `news-desk` team under `sequential`
 * (5 model calls) holds its worker slot for about 5 × that; worker concurrency is 1,000. 1,000 runs go through
 * `POST /v1/runs`; the worker's VmRSS (/proc/<pid>/status) is sampled every 200 ms and read at idle, while all
 * 1,000 runs are active (BullMQ's active count, `GET /v1/queue`) and after they finished.
 */

const RUNS = 1_000;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20_000);
/** How long after the last POST the 1,000 runs may take to become active before the benchmark gives up. */
const ACTIVE_TIMEOUT_MS = 120_000;
/** How long the RSS is watched once all 1,000 are active. */
const HOLD_MS = 5_000;
const SETTLE_MS = 10_000;
/**
 * BENCH_GC_IN_FLIGHT=1 (a diagnostic, not a measurement): one forced full GC in the worker during the runs' last
 * model call, to show how much of the in-flight RSS is live data and how much garbage not yet collected. It
 * lowers the RSS sampled after it, so the in-flight peak of such a run is not comparable.
 */
const GC_IN_FLIGHT = process.env.BENCH_GC_IN_FLIGHT === '1';
const SAMPLE_MS = 200;
const PROGRESS_MS = 3_000;
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/src/cli.js');
const PRELOAD = resolve(ROOT, 'dist/src/telemetry/preload.js');
const KEY = 'bench-memory-key-aaaaaaaaaaaaaaaa';
const PREFIX = 'benchmem';
const ARTICLE =
  'Contoso Ltd agreed to buy Fabrikam Inc for $2.1 billion in cash, the companies said on Monday. Contoso shares ' +
  'rose 4% in early trading while Fabrikam, which had warned of weaker demand last quarter, jumped 18%. Analysts ' +
  'at Northwind Traders said the deal would make Contoso the largest supplier of industrial sensors in Europe.';

/**
 * Loaded into the worker with `--import` (a data: URL, no file): one line of `process.memoryUsage()` on stderr a
 * second, so the RSS can be split into V8 heap and the rest (the timer is unref'd and costs nothing measurable);
 * on SIGUSR2 a full garbage collection (the worker runs with --expose-gc) and a `BENCH_GC` line with the usage
 * after it: what is live, not garbage yet to be collected. Sent once, after the last measurement.
 */
const MEMORY_PROBE = `data:text/javascript,${encodeURIComponent(
  [
    "const usage = (tag) => process.stderr.write(tag + ' ' + JSON.stringify(process.memoryUsage()) + '\\n');",
    "setInterval(() => usage('BENCH_MEMORY'), 1000).unref();",
    "process.on('SIGUSR2', () => { globalThis.gc(); usage('BENCH_GC'); });",
  ].join('\n'),
)}`;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Fields of /proc/<pid>/status in bytes (VmRSS, VmHWM, RssAnon, RssFile); undefined once the process is gone. */
function procStatus(pid: number): Record<string, number> | undefined {
  try {
    const fields: Record<string, number> = {};
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)( kB)?/.exec(line);
      if (m?.[1] && m[2]) fields[m[1]] = Number(m[2]) * (m[3] ? 1024 : 1);
    }
    return fields;
  } catch {
    return undefined;
  }
}

interface Baton {
  child: ChildProcess;
  pid: number;
  /** The last 64 KB of output. */
  tail(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The latest `process.memoryUsage()` the probe printed (worker only). */
  heap(): NodeJS.MemoryUsage | undefined;
  /** A full GC in the worker (SIGUSR2 to the probe), then its memory usage. */
  collect(): Promise<{ usage: NodeJS.MemoryUsage; rss: number }>;
  stop(): Promise<void>;
}

/**
 * The Node flags production starts baton with: those of `npm run start:worker` (the image's ENTRYPOINT has the same,
 * test/infra/dockerfile.test.ts), or BENCH_NODE_FLAGS (space-separated; empty for Node's defaults) to compare.
 */
function productionNodeFlags(): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined)
    return process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const flags = /\bnode ((?:--\S+ )*)--import /.exec(pkg.scripts['start:worker'] ?? '')?.[1];
  if (flags === undefined)
    throw new Error('package.json has no `start:worker` script of the form `node … --import`');
  return flags.split(' ').filter(Boolean);
}

function startBaton(role: 'api' | 'worker', env: Record<string, string>, args: string[] = []): Baton {
  const child = spawn(process.execPath, [...productionNodeFlags(), ...args, '--import', PRELOAD, CLI, role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let heap: NodeJS.MemoryUsage | undefined;
  let collected: NodeJS.MemoryUsage | undefined;
  const seen = new Set<string>();
  const watched: RegExp[] = [];
  const take = (d: Buffer) => {
    let text = d.toString();
    if (text.includes('BENCH_')) {
      const lines = text.split('\n');
      for (const line of lines) {
        if (line.startsWith('BENCH_MEMORY ')) heap = JSON.parse(line.slice(13)) as NodeJS.MemoryUsage;
        if (line.startsWith('BENCH_GC ')) collected = JSON.parse(line.slice(9)) as NodeJS.MemoryUsage;
      }
      text = lines.filter((l) => !l.startsWith('BENCH_')).join('\n');
    }
    for (const p of watched) if (p.test(text)) seen.add(p.source);
    out = (out + text).slice(-65_536);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (child.pid === undefined) throw new Error(`baton ${role} did not start`);
  return {
    child,
    pid: child.pid,
    tail: () => out,
    heap: () => heap,
    async collect() {
      collected = undefined;
      child.kill('SIGUSR2');
      const deadline = Date.now() + 30_000;
      while (!collected) {
        if (Date.now() > deadline) throw new Error(`no answer to SIGUSR2 from baton ${role}`);
        await sleep(20);
      }
      return { usage: collected, rss: procStatus(child.pid ?? 0)?.VmRSS ?? Number.NaN };
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      watched.push(pattern);
      if (pattern.test(out)) return;
      const deadline = Date.now() + timeoutMs;
      while (!seen.has(pattern.source)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`baton ${role} exited (${child.exitCode ?? child.signalCode}):\n${out}`);
        }
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${pattern} from baton ${role}:\n${out}`);
        await sleep(25);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

function describeCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown commit';
  }
}

async function main(): Promise<number> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let redisVersion = 'redis-server';
  try {
    redisVersion = `redis-server ${/v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?'}`;
  } catch {}
  console.log(
    `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${redisVersion}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `commit ${describeCommit()}; ${RUNS} runs of news-desk (sequential, 5 model calls, streaming off), simulated model ${LATENCY_MS} ms per call, worker concurrency ${RUNS}, Node flags: ${productionNodeFlags().join(' ') || '(none)'}`,
  );

  const redis = await startRedisServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-memory-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: PREFIX,
    BATON_DATA_DIR: dataDir,
    BATON_API_KEYS: `${KEY}:admin`,
    PORT: String(port),
    LOG_LEVEL: 'info',
    // What would cap 1,000 runs at once: the per-minute rate limit of the API (600 requests by default), the
    // tenant limits (off by default; set to none so no inherited setting applies), the worker's concurrency
    // (8 by default, at most 1,000); and the agent timeout (30 s by default), raised so that slow calls on a loaded
    // machine do not time out.
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_TENANT_LIMITS: 'inflight=none,perMinute=none,tokensPerDay=none',
    BATON_WORKER_CONCURRENCY: String(RUNS),
    BATON_SIMULATED_LATENCY_MS: String(LATENCY_MS),
    BATON_AGENT_TIMEOUT_MS: String(LATENCY_MS * 4),
  };
  const procs: Baton[] = [];
  const samples: { t: number; rss: number; active: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    const api = startBaton('api', env);
    procs.push(api);
    await api.waitFor(/Server listening/);
    const worker = startBaton('worker', env, ['--expose-gc', '--import', MEMORY_PROBE]);
    procs.push(worker);
    await worker.waitFor(/worker ready/);

    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    let counts: QueueCounts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
    let submitted = 0;
    const t0 = performance.now();
    const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
    const rssNow = () => procStatus(worker.pid)?.VmRSS ?? Number.NaN;

    sampler = setInterval(() => {
      const rss = rssNow();
      if (!Number.isNaN(rss)) samples.push({ t: performance.now(), rss, active: counts.active });
    }, SAMPLE_MS);
    let phase = 'idle';
    progress = setInterval(() => {
      const heap = worker.heap();
      console.log(
        `${elapsed()} s  ${phase.padEnd(9)} submitted ${String(submitted).padStart(4)}  waiting ${String(counts.waiting).padStart(4)}  active ${String(counts.active).padStart(4)}  finished ${String(counts.completed + counts.failed).padStart(4)}  worker RSS ${mb(rssNow())}${heap ? ` (heap used ${mb(heap.heapUsed)})` : ''}`,
      );
    }, PROGRESS_MS);

    const queue = async (): Promise<QueueCounts> => {
      const res = await fetch(`${base}/v1/queue`, { headers: { authorization: `Bearer ${KEY}` } });
      if (!res.ok) throw new Error(`GET /v1/queue: HTTP ${res.status} ${await res.text()}`);
      counts = ((await res.json()) as { counts: QueueCounts }).counts;
      return counts;
    };
    const rssOver = (from: number, to: number) =>
      samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss);

    // Idle: the started worker, nothing queued. A few seconds for start-up work to settle, then the median.
    await sleep(3_000);
    const idleFrom = performance.now();
    await sleep(3_000);
    const idle = percentile(rssOver(idleFrom, performance.now()), 50);
    const idleStatus = procStatus(worker.pid);
    const idleHeap = worker.heap();

    // Submit the runs, 16 requests at a time.
    phase = 'submit';
    const ids: string[] = [];
    const submitFrom = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (submitted < RUNS) {
          submitted++;
          const res = await fetch(`${base}/v1/runs`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              team: 'news-desk',
              pattern: 'sequential',
              input: ARTICLE,
              options: { stream: false },
            }),
          });
          const body = (await res.json()) as { id?: string };
          if (res.status !== 202 || !body.id) {
            throw new Error(`POST /v1/runs: HTTP ${res.status} ${JSON.stringify(body)}`);
          }
          ids.push(body.id);
        }
      }),
    );
    const submitSeconds = (performance.now() - submitFrom) / 1000;

    // Wait until all 1,000 are active at once.
    phase = 'ramp';
    const deadline = performance.now() + ACTIVE_TIMEOUT_MS;
    while ((await queue()).active < RUNS) {
      if (counts.completed + counts.failed > 0) {
        throw new Error(
          `runs finished before all ${RUNS} were active (active ${counts.active}, finished ${counts.completed + counts.failed}): raise BENCH_LATENCY_MS`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(
          `only ${counts.active} of ${RUNS} runs became active within ${ACTIVE_TIMEOUT_MS / 1000} s of the last POST (waiting ${counts.waiting}, delayed ${counts.delayed})`,
        );
      }
      await sleep(SAMPLE_MS);
    }
    const allActiveAt = performance.now();
    const rampSeconds = (allActiveAt - submitFrom) / 1000;
    phase = 'in flight';
    const atAllActive = rssNow();
    await sleep(HOLD_MS);
    const stillActive = (await queue()).active;
    const peakStatus = procStatus(worker.pid);
    const peakHeap = worker.heap();
    const atHold = rssNow();

    // Wait for the runs to finish; then the RSS right away and after a pause.
    phase = 'draining';
    const finishDeadline = performance.now() + 5 * LATENCY_MS + 180_000;
    let inFlightGc: { usage: NodeJS.MemoryUsage; rss: number; before: number } | undefined;
    while (
      (await queue()).active + counts.waiting + counts.delayed > 0 ||
      counts.completed + counts.failed < RUNS
    ) {
      if (performance.now() > finishDeadline)
        throw new Error(`runs did not finish: ${JSON.stringify(counts)}`);
      phase = counts.active >= RUNS ? 'in flight' : 'draining';
      if (GC_IN_FLIGHT && !inFlightGc && performance.now() > allActiveAt + 4.5 * LATENCY_MS) {
        const before = rssNow();
        inFlightGc = { ...(await worker.collect()), before };
        console.log(
          `${elapsed()} s  forced GC with ${counts.active} active: RSS ${mb(before)} → ${mb(inFlightGc.rss)}, heap used ${mb(inFlightGc.usage.heapUsed)} of ${mb(inFlightGc.usage.heapTotal)}`,
        );
      }
      await sleep(500);
    }
    const finishedAt = performance.now();
    // The runs go through their 5 steps while all are active: the in-flight peak is the largest RSS sampled while
    // the queue said 1,000 active (the count is polled every 0.2–0.5 s, so a sample may lag the count a little).
    const inFlight = samples.filter((s) => s.t >= allActiveAt && s.active >= RUNS);
    const inFlightPeak = Math.max(...inFlight.map((s) => s.rss));
    const inFlightMedian = percentile(
      inFlight.map((s) => s.rss),
      50,
    );
    const inFlightSeconds = ((inFlight.at(-1)?.t ?? allActiveAt) - allActiveAt) / 1000;
    const hwmAtFinish = procStatus(worker.pid)?.VmHWM ?? Number.NaN;
    const afterAtOnce = rssNow();
    phase = 'settle';
    await sleep(SETTLE_MS);
    const after = percentile(rssOver(performance.now() - 2_000, performance.now()), 50);
    const afterStatus = procStatus(worker.pid);
    const afterHeap = worker.heap();
    clearInterval(progress);
    clearInterval(sampler);
    const gc = await worker.collect();

    // Outcomes of the runs.
    const statuses = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 50) {
      const batch = await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const res = await fetch(`${base}/v1/runs/${id}`, { headers });
          return ((await res.json()) as { status: string }).status;
        }),
      );
      for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }

    const row = (
      what: string,
      rss: number,
      status: Record<string, number> | undefined,
      heap: NodeJS.MemoryUsage | undefined,
    ) =>
      `| ${what} | ${mb(rss)} | ${status ? `${mb(status.RssAnon ?? Number.NaN)} / ${mb(status.RssFile ?? Number.NaN)}` : ''} | ${heap ? `${mb(heap.heapUsed)} / ${mb(heap.heapTotal)}` : ''} | ${heap ? `${mb(heap.external)} (${mb(heap.arrayBuffers)})` : ''} |`;
    console.log(
      `\nsubmitted ${RUNS} runs in ${submitSeconds.toFixed(1)} s; all ${RUNS} active ${rampSeconds.toFixed(1)} s after the first POST; ${stillActive} still active ${HOLD_MS / 1000} s later; all finished ${((finishedAt - submitFrom) / 1000).toFixed(1)} s after the first POST`,
    );
    console.log(`outcomes: ${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    console.log(
      '\n| worker | RSS | anonymous / file-backed | V8 heap used / total | external (array buffers) |\n| --- | --- | --- | --- | --- |',
    );
    console.log(row('idle after start (median of 3 s)', idle, idleStatus, idleHeap));
    console.log(row(`${RUNS} in flight, when the last became active`, atAllActive, undefined, undefined));
    console.log(
      row(`${RUNS} in flight, ${HOLD_MS / 1000} s later (first model call)`, atHold, peakStatus, peakHeap),
    );
    console.log(
      row(
        `${RUNS} in flight, median over ${inFlightSeconds.toFixed(0)} s`,
        inFlightMedian,
        undefined,
        undefined,
      ),
    );
    console.log(row(`${RUNS} in flight, peak (sampled every 200 ms)`, inFlightPeak, undefined, undefined));
    console.log(
      row('VmHWM (kernel high-water mark) when all had finished', hwmAtFinish, undefined, undefined),
    );
    console.log(row('right after all finished', afterAtOnce, undefined, undefined));
    console.log(row(`after, ${SETTLE_MS / 1000} s later (median of 2 s)`, after, afterStatus, afterHeap));
    if (inFlightGc) {
      console.log(
        row(
          `${RUNS} in flight, last model call, after a forced full GC`,
          inFlightGc.rss,
          undefined,
          inFlightGc.usage,
        ),
      );
    }
    console.log(row('after, then a forced full GC', gc.rss, procStatus(worker.pid), gc.usage));
    console.log(
      `\nper run in flight: ${((inFlightPeak - idle) / RUNS / 1024).toFixed(1)} KB at the peak, ${((atHold - idle) / RUNS / 1024).toFixed(1)} KB on the first model call ((RSS − idle) / ${RUNS}); target ≤ 200 MB worker RSS at ${RUNS} runs in flight: ${inFlightPeak <= 200 * 2 ** 20 ? 'met' : 'not met'} (peak ${mb(inFlightPeak)})`,
    );
    const ok = (statuses.get('succeeded') ?? 0) === RUNS;
    if (!ok) console.error(`not every run succeeded: ${JSON.stringify(Object.fromEntries(statuses))}`);
    return ok ? 0 : 1;
  } catch (err) {
    console.error(`\nbench:memory failed: ${(err as Error).message}`);
    for (const p of procs) console.error(`\n--- last output of pid ${p.pid} ---\n${p.tail().slice(-4_000)}`);
    return 1;
  } finally {
    clearInterval(progress);
    clearInterval(sampler);
    for (const p of procs.reverse()) await p.stop();
    redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exit(await main());
