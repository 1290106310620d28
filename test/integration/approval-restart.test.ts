import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, startApi, startWorker } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * An `approval: always` HTTP tool across a restart of the whole service: the run waits with one pending approval
 * showing the model's arguments; API and worker are SIGKILLed and started again; the approval (or a rejection)
 * arrives over the API; the run finishes, and the local tool service — which counts every call — saw exactly one
 * call (none after a rejection).
 */
let redis: TestRedis;
let server: Server;
let teamsDir: string;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(new URL(req.url ?? '/', 'http://x').pathname);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ refunded: true, note: 'Refund 42 issued.' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  teamsDir = mkdtempSync(join(tmpdir(), 'baton-approval-teams-'));
  writeFileSync(
    join(teamsDir, 'refunds.json'),
    JSON.stringify({
      name: 'refunds',
      description: 'A billing clerk whose refunds a person approves.',
      tools: [
        {
          name: 'issue_refund',
          kind: 'http',
          description: 'Issues a refund for an order.',
          method: 'POST',
          url: `${base}/refund/{orderId}`,
          parameters: {
            type: 'object',
            properties: { orderId: { type: 'string', examples: ['42'] } },
            required: ['orderId'],
          },
          approval: 'always',
          retry: { maxAttempts: 1 },
        },
      ],
      agents: [
        {
          name: 'billing',
          description: 'Issues refunds.',
          instructions: 'Use the tool, then answer.',
          tools: ['issue_refund'],
        },
      ],
      patterns: { sequential: { order: ['billing'] } },
    }),
  );
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(teamsDir, { recursive: true, force: true });
});

async function startService() {
  const env = { BATON_TEAMS_DIR: teamsDir };
  const api = await startApi(redis.url, redis.prefix, env);
  const worker = startWorker(redis.url, redis.prefix, env);
  await worker.waitFor(/worker ready/);
  return { api, worker, c: client(api.url, CLIENT_KEY) };
}

async function waitingRun(decision: 'approve' | 'reject') {
  const first = await startService();
  const { run } = await first.c.createRun({
    team: 'refunds',
    pattern: 'sequential',
    input: `Refund order 42 (${decision}).`,
  });
  const waiting = await first.c.waitForStatus(run.id, ['waiting'], 30_000);
  await first.worker.kill('SIGKILL');
  await first.api.kill('SIGKILL');
  return { runId: run.id, waiting };
}

describe('an approval: always tool call across a SIGKILL of the whole service', () => {
  it('approved after the restart: the run succeeds and the tool service saw exactly one call', async () => {
    const { runId, waiting } = await waitingRun('approve');
    expect(waiting.pending).toEqual([
      expect.objectContaining({
        kind: 'approval',
        agent: 'billing',
        tool: 'issue_refund',
        arguments: { orderId: '42' },
      }),
    ]);
    expect(received).toEqual([]);
    const second = await startService();
    try {
      const answer = await second.c.call('POST', `/v1/runs/${runId}/input`, {
        requestId: waiting.pending?.[0]?.id,
        decision: 'approve',
      });
      expect(answer.status).toBe(202);
      const done = await second.c.waitForStatus(runId, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(done.status).toBe('succeeded');
      expect(received).toEqual(['/refund/42']);
      const types = (await second.c.events(runId)).map((e) => e.event.type);
      expect(types.filter((t) => t === 'tool.called')).toHaveLength(1);
      expect(types).toEqual(expect.arrayContaining(['input.requested', 'input.received', 'run.completed']));
    } finally {
      await second.worker.kill();
      await second.api.kill();
    }
  }, 90_000);

  it('rejected after the restart: the tool service sees no call and the run still finishes', async () => {
    received.length = 0;
    const { runId, waiting } = await waitingRun('reject');
    const second = await startService();
    try {
      const answer = await second.c.call('POST', `/v1/runs/${runId}/input`, {
        requestId: waiting.pending?.[0]?.id,
        decision: 'reject',
        comment: 'Order 42 was already refunded.',
      });
      expect(answer.status).toBe(202);
      const done = await second.c.waitForStatus(runId, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(done.status).toBe('succeeded');
      expect(received).toEqual([]);
    } finally {
      await second.worker.kill();
      await second.api.kill();
    }
  }, 90_000);
});
