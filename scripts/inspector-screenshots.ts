/**
 * `npm run docs:screenshots`: the run inspector's screenshots in docs/images/, re-made from scratch. Starts a
 * private redis-server, the API (with the operator console) and a worker in this process on the simulated model
 * (40–160 ms a call, so the waterfall has shape), runs news-desk under magentic and concurrent, signs in to the
 * console in headless Chromium (/usr/bin/chromium, or CHROMIUM_PATH) and captures each run's page.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { buildApi } from '../src/api/app.js';
import { loadConfig } from '../src/config/index.js';
import { startEmbeddedRedis } from '../src/embedded-redis.js';
import { apiDeps, createServices, workerDeps } from '../src/services.js';
import { startRunWorker } from '../src/worker/run-worker.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, 'docs/images');
const KEY = 'screenshot-operator-key-aaaaaaaa';
const ARTICLE = `Contoso Motors raises guidance after record quarter

Contoso Motors reported record quarterly profit on Tuesday and raised its full-year guidance, sending shares
higher in early trading. Fabrikam Industries fell after a recall of its battery packs.`;

const data = mkdtempSync(join(tmpdir(), 'baton-screenshots-'));
const redis = await startEmbeddedRedis(data);
const config = loadConfig({
  REDIS_URL: redis.url,
  BATON_API_KEYS: `${KEY}:operator`,
  BATON_SIMULATED_LATENCY_MS: '40-160',
  BATON_WORKER_CONCURRENCY: '4',
  BATON_TRACE_URL: 'http://localhost:16686/trace/{traceId}',
  LOG_LEVEL: 'silent',
});
const log = pino({ level: 'silent' });
const services = createServices(config, redis.url, log);
const worker = await startRunWorker(workerDeps(config, services, log));
const deps = apiDeps(config, services, log);
const app = await buildApi(deps);
const url = await app.listen({ port: 0, host: '127.0.0.1' });

async function finishedRun(pattern: string): Promise<string> {
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ team: 'news-desk', pattern, input: ARTICLE, metadata: { desk: 'markets' } }),
  });
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const run = (await (await fetch(`${url}/v1/runs/${id}`, { headers })).json()) as { status: string };
    if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  mkdirSync(OUT, { recursive: true });
  const runs = { magentic: await finishedRun('magentic'), concurrent: await finishedRun('concurrent') };
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}/admin/login?next=/admin/runs`);
  await page.getByLabel('Operator or admin API key').fill(KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/admin/runs`);
  for (const [pattern, id] of Object.entries(runs)) {
    await page.goto(`${url}/admin/runs/${id}`);
    // The details panel shows what hovering a bar shows.
    await page.locator('#timeline g.bar rect.row').nth(1).hover({ force: true });
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    const file = resolve(OUT, `inspector-${pattern}.png`);
    await page.screenshot({
      path: file,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 2400) },
    });
    console.log(`wrote ${file}`);
  }
} finally {
  await browser.close();
  await app.close();
  await worker.close();
  await deps.queue.close();
  await services.close();
  await redis.stop();
  rmSync(data, { recursive: true, force: true });
}
