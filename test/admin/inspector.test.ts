import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientModelError } from '../../src/core/errors.js';
import type { ChatRequest } from '../../src/core/model.js';
import { CLIENT_KEY, client, OPERATOR_KEY, ROOT } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { CHROMIUM, CHROMIUM_ARGS, watchErrors } from './browser-support.js';
import { type Console, startConsole } from './harness.js';

/** The run inspector (/admin/runs, /admin/runs/:id, /admin/compare) in headless Chromium against the real console. */

const ARTIFACTS = resolve(ROOT, 'test-artifacts');
const LIVE = 'INSPECT-LIVE-RUN';
const LANES = 'INSPECT-PARALLEL-LANES';
const REPLAY = 'INSPECT-REPLAYED-RUN';
const RETRY = 'INSPECT-RETRIED-STEP';
let retryFailures = 0;

/** A gate a test opens: model calls that match wait on it (or on their abort signal). */
function gate() {
  let open!: () => void;
  let reach!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const reached = new Promise<void>((r) => {
    reach = r;
  });
  return { opened, reached, open, reach };
}

const has = (request: ChatRequest, marker: string) =>
  request.messages.some((m) => m.content.includes(marker));

const liveGate = gate();
const replayGate = gate();
let replayHeld = true;
const lanesGate = gate();
let lanesArrived = 0;

async function beforeCall(request: ChatRequest, signal: AbortSignal): Promise<void> {
  if (has(request, LIVE) && request.agent === 'classifier') {
    liveGate.reach();
    await liveGate.opened;
  }
  if (has(request, REPLAY) && request.agent === 'extractor' && replayHeld) {
    replayGate.reach();
    // Held until the worker hands the run over and aborts the call.
    await new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
  if (has(request, RETRY) && request.agent === 'classifier' && retryFailures < 2) {
    retryFailures += 1;
    throw new TransientModelError(`simulated outage ${retryFailures}`);
  }
  if (has(request, LANES) && lanesArrived < 4) {
    // All four concurrent branches are in flight at once before any answers: the lanes must show it.
    lanesArrived += 1;
    if (lanesArrived === 4) lanesGate.open();
    await lanesGate.opened;
  }
}

let redis: TestRedis;
let c: Console;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  c = await startConsole(redis, {
    env: { BATON_SHUTDOWN_GRACE_MS: '100' },
    beforeCall,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await c?.stop();
  await redis?.stop();
});

async function signIn(path: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${c.url}${path}`);
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.getByLabel('Operator or admin API key').fill(OPERATOR_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === path.split('?')[0]);
  return { page, errors, close: () => context.close() };
}

async function run(pattern: string, input: string, metadata?: Record<string, string>) {
  const operator = client(c.url, OPERATOR_KEY);
  const { run: created } = await operator.createRun({
    team: 'news-desk',
    pattern,
    input,
    ...(metadata ? { metadata } : {}),
  });
  return created.id;
}

const bars = (page: Page, svg = '#timeline') => page.locator(`${svg} g.bar`);

describe('run inspector in a browser', () => {
  it('a client key cannot open any inspector page or stream', async () => {
    const id = await run('sequential', `${sampleArticle} client`);
    await client(c.url, OPERATOR_KEY).waitForStatus(id, ['succeeded']);
    const asClient = client(c.url, CLIENT_KEY);
    for (const path of [
      '/admin/runs',
      `/admin/runs/${id}`,
      `/admin/runs/${id}/events`,
      `/admin/compare?a=${id}&b=${id}`,
    ]) {
      const res = await asClient.call('GET', path);
      expect(res.status, path).toBe(403);
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${c.url}/admin/runs/${id}`);
    await page.getByLabel('Operator or admin API key').fill(CLIENT_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/This is a client key/);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await context.close();
  });

  it('lists runs, filters by pattern and metadata, opens a magentic run with its timeline and ledgers', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const ids = [
      await run('sequential', `${sampleArticle} list`, { desk: 'markets' }),
      await run('magentic', `${sampleArticle} list`, { desk: 'markets' }),
      await run('handoff', `${sampleArticle} list`, { desk: 'sport' }),
    ];
    for (const id of ids) await operator.waitForStatus(id, ['succeeded'], 30_000);
    const magenticId = ids[1] as string;

    const { page, errors, close } = await signIn('/admin/runs');
    for (const id of ids) await expect.poll(() => page.locator('#runs').getByText(id).count()).toBe(1);

    await page.getByLabel('Pattern').selectOption('magentic');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/pattern=magentic/);
    const rows = page.locator('#runs tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(magenticId);

    await page.goto(`${c.url}/admin/runs?q=desk%3Dsport`);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(ids[2]);

    // Owner key id (the signed-in operator created these runs) and creation time.
    const keyId = await page.locator('header .who code').textContent();
    await page.goto(`${c.url}/admin/runs?owner=${keyId}&pattern=handoff`);
    await expect.poll(() => rows.count()).toBe(1);
    await page.goto(`${c.url}/admin/runs?owner=someone-else&pattern=handoff`);
    expect(await rows.first().textContent()).toContain('No runs match.');
    await page.goto(`${c.url}/admin/runs?pattern=handoff&from=2999-01-01T00%3A00`);
    expect(await rows.first().textContent()).toContain('No runs match.');

    await page.goto(`${c.url}/admin/runs?pattern=magentic`);
    await page.getByRole('link', { name: magenticId }).click();
    await page.waitForURL(`${c.url}/admin/runs/${magenticId}`);
    const record = await operator.getRun(magenticId);
    // One bar per journaled step, every one succeeded.
    await expect.poll(() => bars(page).count()).toBe(record.steps.length);
    expect(record.steps.length).toBeGreaterThan(3);
    expect(await page.locator('#timeline g.bar.s-succeeded').count()).toBe(record.steps.length);
    // The ledgers: the task ledger, and one progress ledger row per round naming the chosen speaker.
    const events = await operator.events(magenticId);
    const rounds = events.filter((e) => e.event.type === 'ledger.updated');
    expect(rounds.length).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#progress-ledgers tbody tr').count()).toBe(rounds.length);
    expect(await page.getByRole('heading', { name: 'Task ledger' }).count()).toBe(1);
    const first = rounds[0]?.event as unknown as { ledger: { next_speaker: { answer: string } } };
    expect(await page.locator('#progress-ledgers tbody tr').first().textContent()).toContain(
      first.ledger.next_speaker.answer,
    );
    // Hovering a bar shows its details; focusing one with the keyboard does too.
    await // The real pointer, without waiting for the page to be idle (a loaded machine delays the stability check).
    await bars(page).first().locator('rect.row').hover({ force: true });
    await expect.poll(() => page.locator('#timeline-details').textContent()).toContain('tokens');
    const second = bars(page).nth(1);
    await second.focus();
    const key = await second.getAttribute('data-key');
    const focused = record.steps.find((s) => s.key === key);
    expect(focused).toBeDefined();
    await expect.poll(() => page.locator('#timeline-details').textContent()).toContain(focused?.key ?? '?');
    await page.screenshot({ path: resolve(ARTIFACTS, 'inspector-magentic.png'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('a concurrent run shows its branches as parallel lanes', async () => {
    const id = await run('concurrent', `${sampleArticle} ${LANES}`);
    await client(c.url, OPERATOR_KEY).waitForStatus(id, ['succeeded']);
    const { page, errors, close } = await signIn(`/admin/runs/${id}`);
    const lanes = await bars(page).evaluateAll(
      (gs) => new Set(gs.map((g) => g.getAttribute('data-lane'))).size,
    );
    expect(lanes).toBeGreaterThanOrEqual(4);
    expect(Number(await page.locator('#timeline').getAttribute('data-lanes'))).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: resolve(ARTIFACTS, 'inspector-concurrent.png'), fullPage: true });
    // On a phone the page does not scroll sideways: the timeline and wide tables scroll within themselves.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth))
      .toBeLessThanOrEqual(0);
    await page.screenshot({ path: resolve(ARTIFACTS, 'inspector-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });

  it('a running run updates without reloading as new steps start and finish', async () => {
    const id = await run('sequential', `${sampleArticle} ${LIVE}`);
    await liveGate.reached;
    const { page, errors, close } = await signIn(`/admin/runs/${id}`);
    // summarizer done, classifier running (held at the gate).
    await expect.poll(() => bars(page).count()).toBe(2);
    expect(await page.locator('#timeline g.bar.s-running').count()).toBe(1);
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    liveGate.open();
    await expect
      .poll(() => page.locator('#run-live').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('succeeded');
    await expect.poll(() => bars(page).count()).toBe(5);
    expect(await page.locator('#timeline g.bar.s-running').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
    expect(errors).toEqual([]);
    await close();
  });

  it('a run that resumed on another worker shows its replayed steps as replayed', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const id = await run('sequential', `${sampleArticle} ${REPLAY}`);
    await replayGate.reached;
    // The worker stops while the extractor's call is in flight: after its grace period the call is aborted and
    // the run is handed over; the next worker replays summarizer and classifier from the journal.
    const first = c.workers.shift();
    replayHeld = false;
    await first?.worker.close();
    await c.addWorker();
    const record = await operator.waitForStatus(id, ['succeeded'], 30_000);
    expect(record.attempt).toBe(2);

    const { page, errors, close } = await signIn(`/admin/runs/${id}`);
    const replayed = page.locator('#timeline g.bar.replayed');
    await expect.poll(() => replayed.count()).toBe(2);
    expect(await replayed.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-key')))).toEqual(
      record.steps.slice(0, 2).map((s) => s.key),
    );
    expect(await page.locator('#timeline g.bar.s-interrupted').count()).toBe(1);
    expect(await page.locator('#timeline').textContent()).toContain('attempt 2 (resumed)');
    expect(await page.locator('#steps').textContent()).toContain('succeeded (replayed)');
    await page.screenshot({ path: resolve(ARTIFACTS, 'inspector-replayed.png'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('a retried step shows each failed attempt on its bar', async () => {
    const id = await run('sequential', `${sampleArticle} ${RETRY}`);
    const record = await client(c.url, OPERATOR_KEY).waitForStatus(id, ['succeeded'], 30_000);
    const step = record.steps.find((s) => s.agent === 'classifier');
    expect(step?.attempts).toBe(3);
    const { page, errors, close } = await signIn(`/admin/runs/${id}`);
    const bar = page.locator(`#timeline g.bar[data-key="${step?.key}"]`);
    expect(await bar.locator('path.retry').count()).toBe(2);
    expect(await bar.locator('text.label').textContent()).toContain('classifier ✓ ↻3');
    await bar.focus();
    await expect
      .poll(() => page.locator('#timeline-details').textContent())
      .toContain('failed: MODEL_TRANSIENT');
    expect(errors).toEqual([]);
    await close();
  });

  it('compares two runs of the same input side by side', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const a = await run('sequential', `${sampleArticle} compare`);
    const b = await run('concurrent', `${sampleArticle} compare`);
    await operator.waitForStatus(a, ['succeeded']);
    await operator.waitForStatus(b, ['succeeded']);
    const { page, errors, close } = await signIn(`/admin/runs/${a}`);
    await page.getByLabel('Compare with run').fill(b);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/\/admin\/compare\?/);
    expect(await page.getByText('Both runs had the same input.').count()).toBe(1);
    const table = page.locator('#compare');
    expect(await table.locator('tr', { hasText: 'Pattern' }).textContent()).toMatch(
      /sequential\s*concurrent/,
    );
    const [ra, rb] = [await operator.getRun(a), await operator.getRun(b)];
    expect(await table.locator('tr', { hasText: /^Steps/ }).textContent()).toContain(
      `${ra.steps.length}${rb.steps.length}`,
    );
    expect(await bars(page, '#timeline-a').count()).toBe(ra.steps.length);
    expect(await bars(page, '#timeline-b').count()).toBe(rb.steps.length);
    expect(await page.locator('#output-diff').textContent()).not.toBe('');
    await page.screenshot({ path: resolve(ARTIFACTS, 'inspector-compare.png'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });
});
