import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askingModel, humanTeamDir } from '../human/support.js';
import { OPERATOR_KEY } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from '../worker/harness.js';

/**
 * The console's pending requests page in headless Chromium: an operator signs in, sees a waiting run's question
 * (filtered by team), answers it with the page's form (CSRF token included), and the run resumes and succeeds.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
let redis: TestRedis;
let fleet: Awaited<ReturnType<typeof startFleet>>;
let browser: Browser;

beforeAll(async () => {
  redis = await startRedis();
  fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir() });
  await fleet.addWorker({ model: askingModel('Which warehouse shipped it?').model });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 30_000 });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await redis?.stop();
});

describe('pending requests page', () => {
  it('lists a waiting run’s question by team and answers it from the browser', async () => {
    const { run } = await fleet.client.createRun({
      team: 'helpdesk',
      pattern: 'sequential',
      input: 'Parcel?',
    });
    await fleet.client.waitForStatus(run.id, ['waiting']);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${fleet.url}/admin/pending`);
    await page.getByLabel('Operator or admin API key').fill(OPERATOR_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${fleet.url}/admin/pending`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Pending requests');
    await page.getByLabel('Team').selectOption('helpdesk');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/team=helpdesk/);
    const row = page.locator('tbody tr', { hasText: run.id });
    expect(await row.textContent()).toContain('Which warehouse shipped it?');

    await row.getByLabel('Answer').fill('Warehouse North');
    await row.getByRole('button', { name: 'Send answer' }).click();
    await page.waitForURL(/done=answered/);
    expect(await page.getByRole('status').textContent()).toContain('The answer was recorded');

    const done = await fleet.client.waitForStatus(run.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.output?.text).toBe('Answer using: Warehouse North');
    await page.goto(`${fleet.url}/admin/pending`);
    expect(await page.locator('tbody').textContent()).toContain('No pending requests.');
  }, 60_000);
});
