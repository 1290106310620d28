import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RUNS_QUEUE } from '../../src/queue/names.js';
import { runKeys } from '../../src/runs/keys.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { shippedTeams } from '../../src/teams/files.js';
import type { EventLite, Evidence, JobInfo, ModelRequest } from './checks.js';
import {
  type ApiClient,
  getRun,
  listRuns,
  type RunLookup,
  type RunSpec,
  replaySubmission,
  type Submission,
  TEAM,
} from './load.js';

const catalog = shippedTeams();

/**
 * Collects what the checks judge, after the chaos: through the API (records, list, an idempotent replay of
 * every POST), from Redis (each run's whole event stream and its job's state) and from the model server's
 * request log.
 */

/** Runs `fn` over `items`, `limit` at a time (keeps the API and this process's CPU use moderate). */
async function eachLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

async function readEvents(redis: Redis, prefix: string, runId: string): Promise<EventLite[]> {
  const entries = await redis.xrange(runKeys(prefix, runId).events, '-', '+');
  const out: EventLite[] = [];
  for (const [id, fields] of entries) {
    try {
      const e = JSON.parse(fields[1] ?? '{}') as Partial<EventLite>;
      if (e.type === 'agent.delta') continue;
      out.push({
        id,
        type: e.type ?? '?',
        at: e.at ?? '',
        ...(e.step ? { step: e.step } : {}),
        ...(e.agent ? { agent: e.agent } : {}),
      });
    } catch {
      out.push({ id, type: 'unparsable', at: '' });
    }
  }
  return out;
}

async function jobInfo(queue: Queue, runId: string): Promise<JobInfo> {
  const job = await queue.getJob(runId);
  if (!job) return { state: 'missing', attemptsMade: 0, stalledCounter: 0 };
  return {
    state: await job.getState(),
    attemptsMade: job.attemptsMade,
    stalledCounter: job.stalledCounter,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}

async function modelRequests(modelUrl: string): Promise<ModelRequest[]> {
  const res = await fetch(`${modelUrl}/_control/requests`, { signal: AbortSignal.timeout(30_000) });
  const all = (await res.json()) as (ModelRequest & { path: string })[];
  return all
    .filter((r) => r.path.endsWith('/chat/completions'))
    .map((r) => ({
      receivedAt: r.receivedAt,
      clientClosed: r.clientClosed,
      ...(r.status !== undefined ? { status: r.status } : {}),
      body: r.body,
    }));
}

function agentsByInstructions(): Map<string, string> {
  const team = catalog.get(TEAM);
  if (!team) throw new Error(`no team ${TEAM} in the catalog`);
  return new Map(team.agents.map((a) => [a.instructions, a.name]));
}

export async function gatherEvidence(input: {
  session: string;
  specs: readonly RunSpec[];
  submissions: readonly Submission[];
  client: ApiClient;
  redisUrl: string;
  prefix: string;
  modelUrl: string;
}): Promise<Evidence> {
  const { client, submissions } = input;
  const accepted = submissions.filter((s): s is Submission & { runId: string } => s.runId !== undefined);

  // Replays first: a replay that creates a second run must show up in the list read next.
  const replays = new Map<number, { status: number | string; runId?: string }>();
  await eachLimited(accepted, 4, async (s) => {
    replays.set(s.spec.index, await replaySubmission(client, s.spec));
  });

  let listed: RunRecord[] | undefined;
  try {
    listed = await listRuns(client, 30_000);
  } catch {
    listed = undefined;
  }
  const ids = [...new Set([...accepted.map((s) => s.runId), ...(listed ?? []).map((r) => r.id)])];
  const lookups = new Map<string, RunLookup>();
  await eachLimited(ids, 4, async (id) => {
    lookups.set(id, await getRun(client, id));
  });

  const redis = new Redis(input.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const queue = new Queue(RUNS_QUEUE, { connection: redis, prefix: input.prefix });
  try {
    const events = new Map<string, EventLite[]>();
    for (const id of ids) events.set(id, await readEvents(redis, input.prefix, id));
    const jobs = new Map<string, JobInfo>();
    for (const id of ids) {
      const lookup = lookups.get(id);
      const terminal = lookup?.found && ['succeeded', 'failed', 'cancelled'].includes(lookup.record.status);
      if (!terminal) jobs.set(id, await jobInfo(queue, id));
    }
    return {
      session: input.session,
      specs: input.specs,
      submissions,
      replays,
      lookups,
      listed,
      events,
      jobs,
      modelRequests: await modelRequests(input.modelUrl),
      agentsByInstructions: agentsByInstructions(),
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
