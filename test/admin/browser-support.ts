import type { Page } from 'playwright-core';

/** Headless Chromium (Debian's `chromium`) for the console's browser tests. */
export const CHROMIUM = '/usr/bin/chromium';
// Offline machine: without these flags Chromium stalls on network services it cannot reach.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Console errors and uncaught exceptions of a page, except the web-font stylesheet the CSP blocks on purpose. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (text.includes('fonts.googleapis.com')) return; // bull-board links Google Fonts; baton's CSP keeps pages offline
    errors.push(`console: ${text}`);
  });
  return errors;
}
