import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, startApi, startWorker } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * Tool calls across real processes: a worker is killed (SIGKILL) right after a tool call was journaled, or while
 * a call is in flight, and the local tool service counts what it receives. A journaled call is never made again;
 * an in-flight call is re-sent (with the same Idempotency-Key) only when the tool is idempotent, and otherwise the
 * run fails with TOOL_OUTCOME_UNKNOWN naming it.
 */

interface Received {
  path: string;
  key: string | undefined;
  auth: string | undefined;
}

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startApi>>;
let server: Server;
let base: string;
let teamsDir: string;
const received: Received[] = [];
/** Paths whose first request is held (never answered) until its client goes away. */
const holdFirst = new Set<string>();
const arrived: ((path: string) => void)[] = [];

function handle(req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  req.resume();
  req.on('end', () => {
    const seenBefore = received.some((r) => r.path === path);
    received.push({
      path,
      key: req.headers['idempotency-key'] as string | undefined,
      auth: req.headers.authorization,
    });
    for (const notify of arrived.splice(0)) notify(path);
    if (holdFirst.has(path) && !seenBefore) return; // in flight until the worker dies
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ path, answer: `The service answered ${path} with order 42 shipped on Monday.` }),
    );
  });
}

const nextRequest = () => new Promise<string>((r) => arrived.push(r));

const team = (name: string, url: string, method: 'GET' | 'POST') => ({
  name,
  description: 'A clerk with one tool.',
  tools: [
    {
      name: 'order_tool',
      kind: 'http',
      description: 'Looks up or changes an order.',
      method,
      url,
      parameters: {
        type: 'object',
        properties: { orderId: { type: 'string', examples: ['42'] } },
        required: ['orderId'],
      },
      headers: { Authorization: 'Bearer ${env:ORDERS_TOKEN}' },
      retry: { maxAttempts: 1 },
    },
  ],
  agents: [
    {
      name: 'clerk',
      description: 'Answers about orders.',
      instructions: 'Use the tool, then answer.',
      tools: ['order_tool'],
    },
  ],
  patterns: { sequential: { order: ['clerk'] } },
});

const SECRET = 'orders-token-do-not-leak';
const workerEnv = {
  BATON_JOB_LOCK_MS: '1000',
  BATON_STALLED_INTERVAL_MS: '500',
  BATON_SIMULATED_LATENCY_MS: '1500',
  ORDERS_TOKEN: SECRET,
  BATON_TOOL_SECRETS: 'ORDERS_TOKEN',
};

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  teamsDir = mkdtempSync(join(tmpdir(), 'baton-tool-teams-'));
  const teams = [
    team('after-journal', `${base}/lookup/{orderId}`, 'GET'),
    team('in-flight-post', `${base}/charge/{orderId}`, 'POST'),
    team('in-flight-get', `${base}/status/{orderId}`, 'GET'),
  ];
  for (const t of teams) writeFileSync(join(teamsDir, `${t.name}.json`), JSON.stringify(t));
  redis = await startRedis();
  api = await startApi(redis.url, redis.prefix, { BATON_TEAMS_DIR: teamsDir });
});
afterAll(async () => {
  await api?.kill();
  await redis?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(teamsDir, { recursive: true, force: true });
});

const env = () => ({ ...workerEnv, BATON_TEAMS_DIR: teamsDir });
const calls = (path: string) => received.filter((r) => r.path === path);

describe('a worker killed around a tool call', () => {
  it('after the call was journaled: the resumed run does not call the tool again', async () => {
    const first = startWorker(redis.url, redis.prefix, env());
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'after-journal',
      pattern: 'sequential',
      input: 'Where is order 42?',
    });
    await c.events(run.id, { until: (e) => e.type === 'tool.completed' });
    await first.kill('SIGKILL');
    const second = startWorker(redis.url, redis.prefix, env());
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(finished.status).toBe('succeeded');
      expect(finished.attempt).toBe(2);
      expect(calls('/lookup/42')).toHaveLength(1);
      expect(finished.output?.text).toContain('The service answered /lookup/42');
      expect(finished.steps.filter((s) => s.kind === 'tool')).toEqual([
        expect.objectContaining({ tool: 'order_tool', agent: 'clerk', status: 'succeeded' }),
      ]);
      const events = await c.events(run.id);
      expect(events.filter((e) => e.event.type === 'tool.called')).toHaveLength(1);
      expect(JSON.stringify(events)).not.toContain(SECRET);
      expect(first.output() + second.output()).not.toContain(SECRET);
    } finally {
      await second.kill();
    }
  }, 60_000);

  it('while a non-idempotent call was in flight: it is not re-sent and the run fails with TOOL_OUTCOME_UNKNOWN', async () => {
    holdFirst.add('/charge/42');
    const first = startWorker(redis.url, redis.prefix, env());
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const sent = nextRequest();
    const { run } = await c.createRun({
      team: 'in-flight-post',
      pattern: 'sequential',
      input: 'Charge order 42.',
    });
    expect(await sent).toBe('/charge/42');
    await first.kill('SIGKILL');
    const second = startWorker(redis.url, redis.prefix, env());
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(finished.status).toBe('failed');
      expect(finished.error).toMatchObject({
        code: 'TOOL_OUTCOME_UNKNOWN',
        details: { tool: 'order_tool', agent: 'clerk', step: 'seq/0/agent:clerk#0/tool:0' },
      });
      expect(calls('/charge/42')).toHaveLength(1);
      expect(finished.steps.find((s) => s.kind === 'tool')).toMatchObject({
        tool: 'order_tool',
        status: 'failed',
        error: { code: 'TOOL_OUTCOME_UNKNOWN' },
      });
    } finally {
      await second.kill();
    }
  }, 60_000);

  it('while an idempotent call was in flight: it is re-sent with the same Idempotency-Key', async () => {
    holdFirst.add('/status/42');
    const first = startWorker(redis.url, redis.prefix, env());
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const sent = nextRequest();
    const { run } = await c.createRun({
      team: 'in-flight-get',
      pattern: 'sequential',
      input: 'Where is order 42?',
    });
    expect(await sent).toBe('/status/42');
    await first.kill('SIGKILL');
    const second = startWorker(redis.url, redis.prefix, env());
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(finished.status).toBe('succeeded');
      const sends = calls('/status/42');
      expect(sends).toHaveLength(2);
      expect(sends[0]?.key).toBe(`${run.id}:seq/0/agent:clerk#0/tool:0`);
      expect(sends[1]?.key).toBe(sends[0]?.key);
      expect(sends[1]?.auth).toBe(`Bearer ${SECRET}`);
      expect(finished.output?.text).toContain('The service answered /status/42');
    } finally {
      await second.kill();
    }
  }, 60_000);
});
