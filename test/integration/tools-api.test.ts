import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, ROOT, startApi, startWorker } from '../support/baton.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../support/otlp-collector.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * A team file outside the repository whose agent has an HTTP tool (a local service) and an MCP tool (a stdio MCP
 * server), run through the API and a worker process on the simulated model: each tool is called, the answer
 * carries each result, the run record lists the tool steps and the trace has `execute_tool` spans under the
 * agent's span.
 */
let redis: TestRedis;
let collector: OtlpCollector;
let api: Awaited<ReturnType<typeof startApi>>;
let server: Server;
let teamsDir: string;
let calls = 0;
const SECRET = 'svc-token-never-in-telemetry';
const answer = JSON.stringify({
  order: '42',
  status: 'shipped',
  carrier: 'Northwind Freight',
  eta: 'Thursday',
});

const otel = (url: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

beforeAll(async () => {
  server = createServer((req, res) => {
    calls++;
    res.writeHead(req.headers.authorization === `Bearer ${SECRET}` ? 200 : 401).end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  teamsDir = mkdtempSync(join(tmpdir(), 'baton-tools-api-'));
  const team = {
    name: 'order-desk',
    description: 'Answers order questions with an order service and an MCP server.',
    tools: [
      {
        name: 'order_status',
        kind: 'http',
        description: 'Status of an order.',
        url: `${base}/orders/{orderId}`,
        parameters: {
          type: 'object',
          properties: { orderId: { type: 'string', examples: ['42'] } },
          required: ['orderId'],
        },
        headers: { Authorization: 'Bearer ${env:SVC_TOKEN}' },
      },
      {
        name: 'orders',
        kind: 'mcp',
        command: [process.execPath, resolve(ROOT, 'test/fixtures/mcp-exit-server.mjs')],
      },
    ],
    agents: [
      {
        name: 'clerk',
        description: 'Answers about orders.',
        instructions: 'Look the order up with both tools, then answer.',
        tools: ['order_status', 'orders__lookup'],
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
  };
  writeFileSync(join(teamsDir, 'order-desk.yaml'), JSON.stringify(team));
  redis = await startRedis();
  collector = await startOtlpCollector();
  api = await startApi(redis.url, redis.prefix, { BATON_TEAMS_DIR: teamsDir, ...otel(collector.url) });
});
afterAll(async () => {
  await api?.kill();
  await collector?.close();
  await redis?.stop();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(teamsDir, { recursive: true, force: true });
});

describe('tools through the API', () => {
  it('calls an HTTP tool and a stdio MCP tool, answers with both results, records the steps and traces the calls', async () => {
    const worker = startWorker(redis.url, redis.prefix, {
      BATON_TEAMS_DIR: teamsDir,
      SVC_TOKEN: SECRET,
      BATON_TOOL_SECRETS: 'SVC_TOKEN',
      ...otel(collector.url),
    });
    try {
      await worker.waitFor(/worker ready/);
      const c = client(api.url, CLIENT_KEY);
      const { run } = await c.createRun({
        team: 'order-desk',
        pattern: 'sequential',
        input: 'Where is order 42?',
      });
      const done = await c.waitForStatus(run.id, ['succeeded', 'failed'], 30_000);
      expect(done.status).toBe('succeeded');
      expect(calls).toBe(1);
      expect(done.output?.text).toContain(answer.slice(0, 200));
      expect(done.output?.text).toMatch(/Order sample-orderId left the warehouse/);
      expect(done.steps.filter((s) => s.kind === 'tool').map((s) => [s.tool, s.status])).toEqual(
        expect.arrayContaining([
          ['order_status', 'succeeded'],
          ['orders__lookup', 'succeeded'],
        ]),
      );

      const ofTrace = (s: CollectedSpan) => s.traceId === done.traceId;
      const tools = await collector.waitForSpans(
        (s) => ofTrace(s) && s.name.startsWith('execute_tool '),
        15_000,
        2,
      );
      const [agentSpan] = await collector.waitForSpans((s) => ofTrace(s) && s.name === 'invoke_agent clerk');
      expect(tools.map((s) => s.name).sort()).toEqual([
        'execute_tool order_status',
        'execute_tool orders__lookup',
      ]);
      for (const span of tools) {
        expect(span.parentSpanId).toBe(agentSpan?.spanId);
        expect(span.attributes['gen_ai.tool.call.id']).toEqual(expect.any(String));
      }
      expect(tools.find((s) => s.name === 'execute_tool order_status')?.attributes['gen_ai.tool.type']).toBe(
        'function',
      );
      expect(
        tools.find((s) => s.name === 'execute_tool orders__lookup')?.attributes['gen_ai.tool.type'],
      ).toBe('extension');
      expect(JSON.stringify(collector.spans)).not.toContain(SECRET);
      expect(worker.output()).not.toContain(SECRET);
    } finally {
      await worker.kill();
    }
  }, 60_000);
});
