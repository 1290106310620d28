import type { z } from 'zod';
import { type RunOptions, runOptionsSchema } from './schema.js';

/**
 * Turns `key=value` flags (CLI `--option`, eval matrices) into validated run options: numbers and booleans are
 * recognised, dots nest (`model.deployment=gpt-4o`). A bad key or value throws one sentence naming it.
 */
export function parseOptionFlags(flags: Record<string, string>): RunOptions {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(flags)) {
    const value: unknown =
      raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    const path = key.split('.');
    let target = out;
    for (const part of path.slice(0, -1)) {
      target[part] = (target[part] as Record<string, unknown> | undefined) ?? {};
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
