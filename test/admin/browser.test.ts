import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, OPERATOR_KEY, ROOT } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { CHROMIUM, CHROMIUM_ARGS, watchErrors } from './browser-support.js';
import { type Console, FAIL_MARKER, startConsole } from './harness.js';

/** Headless Chromium against the real console; screenshots go to test-artifacts/. */
const ARTIFACTS = resolve(ROOT, 'test-artifacts');
const SCREENSHOT = resolve(ARTIFACTS, 'admin-queues.png');

let redis: TestRedis;
let c: Console;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  c = await startConsole(redis);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await c?.stop();
  await redis?.stop();
});

async function signInAs(page: Page, key: string, path = '/admin/queues') {
  await page.goto(`${c.url}${path}`);
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.getByLabel('Operator or admin API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('operator console in a browser', () => {
  it('a client key is refused at the login form', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAs(page, CLIENT_KEY);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/This is a client key/);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect((await context.cookies()).map((k) => k.name)).not.toContain('baton_session');
    await context.close();
  });

  it('an operator signs in and sees the runs queue with the right counts in bull-board', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const ok = await Promise.all(
      [1, 2, 3].map(
        async (i) =>
          (
            await operator.createRun({
              team: 'news-desk',
              pattern: 'sequential',
              input: `${sampleArticle} #${i}`,
            })
          ).run,
      ),
    );
    const bad = (
      await operator.createRun({
        team: 'news-desk',
        pattern: 'sequential',
        input: `${sampleArticle} ${FAIL_MARKER}`,
      })
    ).run;
    for (const r of ok) await operator.waitForStatus(r.id, ['succeeded']);
    await operator.waitForStatus(bad.id, ['failed']);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signInAs(page, OPERATOR_KEY);
    await page.waitForURL(`${c.url}/admin/queues`);

    const session = (await context.cookies()).find((k) => k.name === 'baton_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
    expect(session?.value).not.toContain(OPERATOR_KEY);

    // The dashboard rendered (React ran under the CSP) and shows the runs queue with 3 completed and 1 failed.
    const completedTab = page.locator('a[href="/admin/queues/?status=completed"]');
    const failedTab = page.locator('a[href="/admin/queues/?status=failed"]');
    await expect.poll(() => completedTab.textContent(), { timeout: 15_000 }).toMatch(/COMPLETED\s*3/);
    await expect.poll(() => failedTab.textContent()).toMatch(/FAILED\s*1/);
    await expect.poll(() => page.getByText('4 Jobs').count()).toBe(1);
    await expect
      .poll(() => page.locator('main').getByText('runs', { exact: true }).count())
      .toBeGreaterThan(0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The failed job shows the run's error; retrying it from the UI (an XHR with the XSRF header) works.
    await page.goto(`${c.url}/admin/queues/queue/runs?status=failed`);
    await expect.poll(() => page.getByText(bad.id).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('main').textContent()).toContain('AGENT_FAILED');
    await page.screenshot({ path: resolve(ARTIFACTS, 'admin-queues-failed.png'), fullPage: true });
    c.failures.on = false;
    const retryCall = page.waitForResponse(
      (r) => r.request().method() === 'PUT' && r.url().endsWith('/retry/failed'),
    );
    await page.getByRole('button', { name: 'Retry all' }).click();
    const dialog = page.getByRole('alertdialog');
    await expect.poll(() => dialog.textContent()).toContain('retry all failed jobs');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const retried = await retryCall;
    expect(retried.status()).toBe(200);
    // bull-board's HTTP client sent the double-submit token it read from the XSRF-TOKEN cookie.
    expect(retried.request().headers()['x-xsrf-token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await operator.waitForStatus(bad.id, ['succeeded'], 15_000)).status).toBe('succeeded');

    // The ops page and the fleet page render for the same session.
    await page.goto(`${c.url}/admin`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Operator console');
    expect(await page.getByRole('link', { name: 'Queue dashboard' }).first().getAttribute('href')).toBe(
      '/admin/queues',
    );
    await page.screenshot({ path: resolve(ARTIFACTS, 'admin-overview.png'), fullPage: true });
    await page.goto(`${c.url}/admin/fleet`);
    await expect.poll(() => page.getByRole('heading', { level: 2, name: /Workers \(1\)/ }).count()).toBe(1);
    await page.screenshot({ path: resolve(ARTIFACTS, 'admin-fleet.png'), fullPage: true });

    // Sign out from the console ends the session.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/admin\/login\?signedOut=1$/);
    await page.goto(`${c.url}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    expect(errors).toEqual([]);
    await context.close();
  });
});
