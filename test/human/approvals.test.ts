import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel, ChatRequest } from '../../src/core/model.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from '../worker/harness.js';

/**
 * Approvals in process: edited arguments are checked against the tool's parameters (400), an approval with
 * edited arguments makes the call with them, and a rejection is the tool result the model sees next.
 */
let redis: TestRedis;
let server: Server;
let teamsDir: string;
const received: string[] = [];
let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;

function model() {
  const requests: ChatRequest[] = [];
  const m: ChatModel = {
    provider: 'simulated',
    async complete(request) {
      requests.push(request);
      const tool = [...request.messages].reverse().find((x) => x.role === 'tool');
      const usage = { inputTokens: 1, outputTokens: 1 };
      if (!tool) {
        const args = JSON.stringify({ orderId: '42' });
        return {
          message: { role: 'assistant', content: '' },
          toolCalls: [{ id: 'c1', name: 'issue_refund', arguments: args }],
          usage,
          model: 'scripted',
          finishReason: 'tool_calls',
        };
      }
      const content = `Tool said: ${tool.content}`;
      return {
        message: { role: 'assistant', content },
        toolCalls: [],
        usage,
        model: 'scripted',
        finishReason: 'stop',
      };
    },
  };
  return { model: m, requests };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(new URL(req.url ?? '/', 'http://x').pathname);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ refunded: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  teamsDir = await mkdtemp(join(tmpdir(), 'baton-approvals-'));
  await writeFile(
    join(teamsDir, 'refunds.json'),
    JSON.stringify({
      name: 'refunds',
      description: 'Refunds a person approves.',
      approvalTimeoutMs: 3_600_000,
      tools: [
        {
          name: 'issue_refund',
          kind: 'http',
          description: 'Issues a refund.',
          method: 'POST',
          url: `${base}/refund/{orderId}`,
          parameters: {
            type: 'object',
            properties: { orderId: { type: 'string', pattern: '^[0-9]+$' } },
            required: ['orderId'],
            additionalProperties: false,
          },
          approval: 'always',
        },
      ],
      agents: [
        { name: 'billing', description: 'Refunds.', instructions: 'Refund.', tools: ['issue_refund'] },
      ],
      patterns: { sequential: { order: ['billing'] } },
    }),
  );
  redis = await startRedis();
});
afterAll(async () => {
  await fleet?.stop();
  await redis?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const task = { team: 'refunds', pattern: 'sequential', input: 'Refund order 42.' };

describe('approvals', () => {
  it('check edited arguments, and make the call with them once approved', async () => {
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: teamsDir });
    await fleet.addWorker({ model: model().model });
    const { run } = await fleet.client.createRun(task);
    const waiting = await fleet.client.waitForStatus(run.id, ['waiting']);
    const request = waiting.pending?.[0];
    expect(request).toMatchObject({ kind: 'approval', tool: 'issue_refund', arguments: { orderId: '42' } });
    expect(request?.expiresAt).toBeDefined();
    const path = `/v1/runs/${run.id}/input`;
    const bad = await fleet.client.call('POST', path, {
      requestId: request?.id,
      decision: 'approve',
      arguments: { orderId: 'forty-two' },
    });
    expect(bad.status).toBe(400);
    const ok = await fleet.client.call('POST', path, {
      requestId: request?.id,
      decision: 'approve',
      arguments: { orderId: '43' },
    });
    expect(ok.status).toBe(202);
    const done = await fleet.client.waitForStatus(run.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(received).toEqual(['/refund/43']);
  });

  it('show a rejection to the model as the tool result, with the comment', async () => {
    received.length = 0;
    await fleet?.stop();
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: teamsDir });
    const scripted = model();
    await fleet.addWorker({ model: scripted.model });
    const { run } = await fleet.client.createRun(task);
    const waiting = await fleet.client.waitForStatus(run.id, ['waiting']);
    const res = await fleet.client.call('POST', `/v1/runs/${run.id}/input`, {
      requestId: waiting.pending?.[0]?.id,
      decision: 'reject',
      comment: 'already refunded',
    });
    expect(res.status).toBe(202);
    const done = await fleet.client.waitForStatus(run.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(received).toEqual([]);
    expect(done.output?.text).toContain('the reviewer rejected this call: already refunded');
  });
});
