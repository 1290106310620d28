import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import { RUNS_QUEUE } from '../../src/queue/names.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from '../worker/harness.js';
import { askingModel, humanTeamDir } from './support.js';

/**
 * A run whose agent asks a person waits holding no worker: status `waiting` with the question pending, its job
 * delayed (not active). An answer over the API is journaled once and the run resumes — on another worker too —
 * with the answer in the agent's next model request. An unanswered request expires with the default.
 */
let redis: TestRedis;
let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});
afterAll(async () => {
  await redis?.stop();
});

const task = { team: 'helpdesk', pattern: 'sequential', input: 'Where is my parcel?' };

async function jobState(f: NonNullable<typeof fleet>, runId: string): Promise<string> {
  const { Queue } = await import('bullmq');
  const queue = new Queue(RUNS_QUEUE, {
    connection: f.services.connect('probe'),
    prefix: f.config.redisPrefix,
  });
  try {
    return await queue.getJobState(runId);
  } finally {
    await queue.close();
  }
}

const typesOf = (events: { event: RunEvent }[]) => events.map((e) => e.event.type);

describe('ask_human', () => {
  it('waits without a worker, resumes on another worker with the answer in the next model request', async () => {
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir() });
    const first = askingModel();
    const workerA = await fleet.addWorker({ model: first.model });
    const created = await fleet.client.createRun(task);
    expect(created.status).toBe(202);
    const runId = created.run.id;
    const waiting = await fleet.client.waitForStatus(runId, ['waiting']);
    expect(waiting.pending).toHaveLength(1);
    const request = waiting.pending?.[0];
    expect(request).toMatchObject({
      kind: 'question',
      agent: 'clerk',
      question: 'Which order number is this about?',
    });
    expect(await jobState(fleet, runId)).toBe('delayed');
    expect(workerA.activeRuns()).toEqual([]);
    await workerA.close();

    const second = askingModel();
    await fleet.addWorker({ model: second.model });
    const other = client(fleet.url, OTHER_CLIENT_KEY);
    expect(
      (await other.call('POST', `/v1/runs/${runId}/input`, { requestId: request?.id, answer: 'x' })).status,
    ).toBe(404);
    expect(
      (await fleet.client.call('POST', `/v1/runs/${runId}/input`, { requestId: request?.id })).status,
    ).toBe(400);
    const wrongKind = await fleet.client.call('POST', `/v1/runs/${runId}/input`, {
      requestId: request?.id,
      decision: 'approve',
    });
    expect(wrongKind.status).toBe(400);
    const answered = await fleet.client.call('POST', `/v1/runs/${runId}/input`, {
      requestId: request?.id,
      answer: 'Order 4711',
    });
    expect(answered.status).toBe(202);
    expect(answered.body).toMatchObject({
      answer: { requestId: request?.id, answer: 'Order 4711', by: expect.any(String) },
    });
    const twice = await fleet.client.call('POST', `/v1/runs/${runId}/input`, {
      requestId: request?.id,
      answer: 'y',
    });
    expect(twice.status).toBe(409);

    const done = await fleet.client.waitForStatus(runId, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.pending).toBeUndefined();
    expect(done.output?.text).toBe('Answer using: Order 4711');
    // The answer is the tool result of the clerk's next model request, on the second worker.
    const next = second.requests.at(-1);
    expect(next?.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 'call-1', content: 'Order 4711' });
    expect(first.requests).toHaveLength(1);
    const events = await fleet.client.events(runId);
    const types = typesOf(events);
    expect(types.filter((t) => t === 'input.requested')).toHaveLength(1);
    expect(types).toContain('input.received');
    expect(types.indexOf('input.requested')).toBeLessThan(types.indexOf('input.received'));
    expect(types.at(-1)).toBe('run.completed');
  });

  it('lets an operator answer, and cancels a waiting run at once', async () => {
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir() });
    await fleet.addWorker({ model: askingModel().model });
    const operator = client(fleet.url, OPERATOR_KEY);
    const a = (await fleet.client.createRun(task)).run.id;
    const b = (await fleet.client.createRun(task)).run.id;
    const waitingA = await fleet.client.waitForStatus(a, ['waiting']);
    await fleet.client.waitForStatus(b, ['waiting']);
    const res = await operator.call('POST', `/v1/runs/${a}/input`, {
      requestId: waitingA.pending?.[0]?.id,
      answer: 'Order 1',
    });
    expect(res.status).toBe(202);
    expect((await fleet.client.waitForStatus(a, ['succeeded', 'failed'])).status).toBe('succeeded');
    const cancelled = await fleet.client.call('POST', `/v1/runs/${b}/cancel`);
    expect(cancelled.status).toBe(202);
    const ended = (await fleet.client.waitForStatus(b, ['cancelled'])) as RunRecord;
    expect(ended.pending).toBeUndefined();
  });
});

describe('an unanswered request', () => {
  it('expires with input.expired and the default, and the run goes on', async () => {
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir(1_000) });
    const asking = askingModel();
    await fleet.addWorker({ model: asking.model });
    const runId = (await fleet.client.createRun(task)).run.id;
    const waiting = await fleet.client.waitForStatus(runId, ['waiting']);
    const request = waiting.pending?.[0];
    expect(request?.expiresAt).toBeDefined();
    const events = await fleet.client.events(runId);
    const expired = events.find((e) => e.event.type === 'input.expired')?.event;
    expect(expired).toMatchObject({ requestId: request?.id, decision: 'reject' });
    const done = await fleet.client.getRun(runId);
    expect(done.status).toBe('succeeded');
    expect(asking.requests.at(-1)?.messages.at(-1)).toMatchObject({
      role: 'tool',
      content: expect.stringMatching(/expired/),
    });
    const late = await fleet.client.call('POST', `/v1/runs/${runId}/input`, {
      requestId: request?.id,
      answer: 'z',
    });
    expect(late.status).toBe(409);
  });
});
