import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/index.js';
import { apiDeps, createServices } from '../../src/services.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { API_KEYS, CLIENT_KEY, OPERATOR_KEY } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** Secrets never reach the logs: not from a URL's path or query, not nested deep in a logged object. */

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines, raw };
}

let redis: TestRedis;
let out: ReturnType<typeof capture>;
let stop: () => Promise<void>;
let url: string;

beforeAll(async () => {
  redis = await startRedis();
  out = capture();
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: redis.prefix,
    BATON_API_KEYS: API_KEYS,
    LOG_LEVEL: 'info',
  });
  const log = createLogger({ level: 'info', destination: out.stream, exportLogs: false });
  const services = createServices(config, redis.url, log);
  const deps = apiDeps(config, services, log);
  const app = await buildApi(deps);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  stop = async () => {
    await app.close();
    await deps.queue.close();
    await services.close();
  };
});
afterAll(async () => {
  await stop?.();
  await redis?.stop();
});

describe('request log lines', () => {
  it('name the matched route and the query parameters, never the URL: a key in the path or query stays out', async () => {
    const auth = { authorization: `Bearer ${CLIENT_KEY}` };
    const requests = [
      `/v1/runs/${OPERATOR_KEY}`, // a key pasted where a run id goes (400)
      `/v1/runs/${OPERATOR_KEY}/events`,
      `/v1/${OPERATOR_KEY}`, // no such route (404)
      `/v1/runs/${OPERATOR_KEY}%E0%A4%A`, // bad encoding (400)
      `/v1/runs?limit=5&api_key=${OPERATOR_KEY}`,
      `/v1/teams?key=${encodeURIComponent(OPERATOR_KEY)}`,
      `/admin/queues/api/queues?token=${OPERATOR_KEY}`,
    ];
    const before = out.lines.length;
    for (const path of requests) await (await fetch(`${url}${path}`, { headers: auth })).text();
    const lines = out.lines.slice(before);
    const raw = out.raw.slice(-lines.length).join('\n');
    expect(raw).not.toContain(OPERATOR_KEY);
    expect(raw).not.toContain(CLIENT_KEY);
    expect(raw).not.toContain(encodeURIComponent(OPERATOR_KEY));

    const incoming = lines.filter((l) => l.msg === 'incoming request').map((l) => l.req);
    expect(incoming).toContainEqual(expect.objectContaining({ method: 'GET', route: '/v1/runs/:id' }));
    expect(incoming).toContainEqual(expect.objectContaining({ method: 'GET', route: '/v1/runs/:id/events' }));
    expect(incoming).toContainEqual(expect.objectContaining({ method: 'GET', route: null }));
    expect(incoming).toContainEqual({
      method: 'GET',
      route: '/v1/runs',
      query: { limit: '[redacted]', api_key: '[redacted]' },
      remoteAddress: '127.0.0.1',
    });
    for (const req of incoming) expect(req).not.toHaveProperty('url');
  });

  it('redacts secrets nested at any depth of a logged object', () => {
    const lines = capture();
    const log = createLogger({ level: 'info', destination: lines.stream, exportLogs: false });
    log.info(
      {
        a: { b: { c: { d: { apiKey: 'sk-deep-5', keep: 'visible' } } } },
        list: [{ nested: [{ headers: { Authorization: 'Bearer sk-in-array', 'X-Api-Key': 'xk-deep' } }] }],
        upstream: { config: { client_secret: 'cs-deep', password: 'pw', token: { value: 'tk' } } },
      },
      'deep',
    );
    const [line] = lines.lines;
    expect(lines.raw.join('\n')).not.toMatch(/sk-deep-5|sk-in-array|xk-deep|cs-deep|"pw"|"tk"/);
    expect(line?.a).toEqual({ b: { c: { d: { apiKey: '[redacted]', keep: 'visible' } } } });
    expect(line?.list).toEqual([
      { nested: [{ headers: { Authorization: '[redacted]', 'X-Api-Key': '[redacted]' } }] },
    ]);
    expect(line?.upstream).toEqual({
      config: { client_secret: '[redacted]', password: '[redacted]', token: '[redacted]' },
    });
  });
});
