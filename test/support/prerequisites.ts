import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Vitest global set-up: the system packages the suite needs, checked once before any test runs, so a missing one
 * fails the run with a sentence saying how to install it (instead of a timeout deep inside a test).
 */

interface Prerequisite {
  /** An executable on the PATH, or an absolute path. */
  command: string;
  why: string;
  install: string;
  /** Not needed when this returns true (e.g. REDIS_URL points at a Redis). */
  unless?: () => boolean;
}

export const prerequisites: Prerequisite[] = [
  {
    command: 'redis-server',
    why: 'tests start private Redis servers',
    install:
      'apt install redis-server (or brew install redis), or set REDIS_URL to a Redis the tests may use',
    unless: () => Boolean(process.env.REDIS_URL),
  },
  {
    command: '/usr/bin/chromium',
    why: "the operators' console is tested in a real headless browser",
    install: 'apt install chromium',
  },
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function found(command: string): boolean {
  if (command.startsWith('/')) return executable(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, command)));
}

export function missingPrerequisites(): string[] {
  return prerequisites
    .filter((p) => !p.unless?.() && !found(p.command))
    .map((p) => `${p.command} is missing (${p.why}): ${p.install}.`);
}

export default function setup(): void {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new Error(`The test suite needs system packages that are not installed. ${missing.join(' ')}`);
  }
}
