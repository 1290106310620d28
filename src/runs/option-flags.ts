import type { z } from 'zod';
import { type RunOptions, runOptionsSchema } from './schema.js';

const FORBIDDEN_NAMES = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Turns `key=value` flags (CLI `--option`, eval matrices) into validated run options: numbers and booleans are
 * recognised, dots nest (`model.deployment=gpt-4o`). A bad key or value throws one sentence naming it.
 */
export function parseOptionFlags(flags: Record<string, string>): RunOptions {
  // Objects without a prototype, and names checked before use: `__proto__.x=1` must not reach Object.prototype.
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, raw] of Object.entries(flags)) {
    const value: unknown =
      raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    const path = key.split('.');
    const bad = path.find((part) => !/^[A-Za-z][A-Za-z0-9_-]*$/.test(part) || FORBIDDEN_NAMES.has(part));
    if (bad !== undefined) {
      throw new Error(`Invalid run option "${key}": "${bad}" is not an option name.`);
    }
    let target = out;
    for (const part of path.slice(0, -1)) {
      const next = Object.hasOwn(target, part) ? target[part] : undefined;
      if (next !== undefined && (typeof next !== 'object' || next === null)) {
        throw new Error(`Invalid run option "${key}": "${part}" is already set to a value.`);
      }
      target[part] = next ?? Object.create(null);
      target = target[part] as Record<string, unknown>;
    }
    target[path[path.length - 1] ?? key] = value;
  }
  const parsed = runOptionsSchema.safeParse(out);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown option(s) ${i.keys.join(', ')}`
        : `${i.path.join('.')}: ${i.message}`,
    );
    throw new Error(
      `Invalid run options: ${reasons.join('; ')}. Known options: ${Object.keys(runOptionsSchema.shape).join(', ')}.`,
    );
  }
  return parsed.data;
}

export const optionFlagKeys = Object.keys(runOptionsSchema.shape) as (keyof z.infer<
  typeof runOptionsSchema
>)[];
