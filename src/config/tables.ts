import { z } from 'zod';

/**
 * Parsing of the quota and price settings (used by `src/config.ts`):
 *
 * - `BATON_QUOTAS`: `deployment=rpm:tpm,…` (either number may be left out: `gpt-4o=60`, `gpt-4o=:90000`) or JSON
 *   `{"gpt-4o": {"rpm": 60, "tpm": 90000}}`; `*` applies to deployments not listed.
 * - `BATON_QUOTA_<DEPLOYMENT>=rpm:tpm`: one deployment per variable; the name is the deployment's upper-cased,
 *   with `_` for other characters (`gpt-4o-mini` → `BATON_QUOTA_GPT_4O_MINI`). Wins over `BATON_QUOTAS`.
 * - `BATON_PRICES`: `deployment=input:output,…` in USD per 1 000 tokens, or JSON
 *   `{"gpt-4o": {"input": 0.0025, "output": 0.01}}`.
 */

export interface QuotaLimit {
  /** Requests per window. */
  rpm?: number | undefined;
  /** Tokens (prompt + completion) per window. */
  tpm?: number | undefined;
}

/** Quota limits by deployment. Keys match exactly, then by `quotaKey` (upper case, `_` for other characters); `*` applies to the rest. */
export type QuotaTable = Record<string, QuotaLimit>;

export interface Price {
  /** USD per 1 000 prompt tokens. */
  inputPer1K: number;
  /** USD per 1 000 completion tokens. */
  outputPer1K: number;
}

/** Prices by deployment; keys match exactly, then case-insensitively with `-`, `.` and `_` alike; `*` prices the rest. */
export type PriceTable = Record<string, Price>;

/** The name a deployment has in a `BATON_QUOTA_<NAME>` variable: `gpt-4o-mini` → `GPT_4O_MINI`. */
export function quotaKey(deployment: string): string {
  return deployment.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export const QUOTA_VARIABLE_PREFIX = 'BATON_QUOTA_';

/**
 * A table keyed by names that clients may choose (deployments): no prototype, so `constructor`, `__proto__` or
 * `toString` are names like any other, never inherited properties.
 */
export function emptyTable<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The own entry `name` of `table`, never an inherited property (safe on plain object literals too). */
export function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** A deployment's entry: exact name, then the same `quotaKey` (case, `-`, `.` and `_` alike), then `*`. */
export function entryForDeployment<T>(table: Readonly<Record<string, T>>, deployment: string): T | undefined {
  const exact = ownEntry(table, deployment);
  if (exact) return exact;
  const key = quotaKey(deployment);
  for (const [name, entry] of Object.entries(table)) if (name !== '*' && quotaKey(name) === key) return entry;
  return ownEntry(table, '*');
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

function nonNegative(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  return Number(text);
}

function parsePair(text: string, integers: boolean): [number | undefined, number | undefined] | undefined {
  const parts = text.split(':');
  if (parts.length > 2) return undefined;
  const [a = '', b = ''] = parts;
  const first = a.trim() === '' ? undefined : nonNegative(a);
  const second = b.trim() === '' ? undefined : nonNegative(b);
  if ((a.trim() !== '' && first === undefined) || (b.trim() !== '' && second === undefined)) return undefined;
  if (integers && [first, second].some((n) => n !== undefined && (!Number.isInteger(n) || n <= 0)))
    return undefined;
  return [first, second];
}

function parseQuotaLimit(text: string): QuotaLimit | undefined {
  const pair = parsePair(text, true);
  if (!pair || (pair[0] === undefined && pair[1] === undefined)) return undefined;
  const limit: QuotaLimit = {};
  if (pair[0] !== undefined) limit.rpm = pair[0];
  if (pair[1] !== undefined) limit.tpm = pair[1];
  return limit;
}

function entries(raw: string): { name: string; value: string }[] | string {
  const out: { name: string; value: string }[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0) return entry;
    out.push({ name: entry.slice(0, at).trim(), value: entry.slice(at + 1) });
  }
  return out;
}

function parseJson(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const jsonQuota = z
  .object({ rpm: z.number().int().positive().optional(), tpm: z.number().int().positive().optional() })
  .strict()
  .refine((q) => q.rpm !== undefined || q.tpm !== undefined);
const jsonPrice = z.union([
  z.object({ input: z.number().min(0), output: z.number().min(0) }).strict(),
  z.object({ inputPer1K: z.number().min(0), outputPer1K: z.number().min(0) }).strict(),
]);

export function parseQuotaTable(raw: string): Parsed<QuotaTable> {
  const table: QuotaTable = emptyTable();
  if (raw.trim().startsWith('{')) {
    const json = parseJson(raw);
    if (!json) return { ok: false, problem: 'is not valid JSON' };
    for (const [name, value] of Object.entries(json)) {
      const parsed = jsonQuota.safeParse(value);
      if (!parsed.success) {
        return {
          ok: false,
          problem: `entry "${name}" must be {"rpm": positive integer, "tpm": positive integer}`,
        };
      }
      table[name] = parsed.data;
    }
    return { ok: true, value: table };
  }
  const list = entries(raw);
  if (typeof list === 'string') return { ok: false, problem: `entry "${list}" must be deployment=rpm:tpm` };
  for (const { name, value } of list) {
    const limit = parseQuotaLimit(value);
    if (!limit) {
      return {
        ok: false,
        problem: `entry "${name}=${value}" must be deployment=rpm:tpm with positive whole numbers`,
      };
    }
    table[name] = limit;
  }
  return { ok: true, value: table };
}

export function parsePriceTable(raw: string): Parsed<PriceTable> {
  const table: PriceTable = emptyTable();
  if (raw.trim().startsWith('{')) {
    const json = parseJson(raw);
    if (!json) return { ok: false, problem: 'is not valid JSON' };
    for (const [name, value] of Object.entries(json)) {
      const parsed = jsonPrice.safeParse(value);
      if (!parsed.success) {
        return {
          ok: false,
          problem: `entry "${name}" must be {"input": USD per 1K tokens, "output": USD per 1K tokens}`,
        };
      }
      const price = parsed.data;
      table[name] =
        'input' in price
          ? { inputPer1K: price.input, outputPer1K: price.output }
          : { inputPer1K: price.inputPer1K, outputPer1K: price.outputPer1K };
    }
    return { ok: true, value: table };
  }
  const list = entries(raw);
  if (typeof list === 'string')
    return { ok: false, problem: `entry "${list}" must be deployment=input:output` };
  for (const { name, value } of list) {
    const pair = parsePair(value, false);
    if (!pair || pair[0] === undefined || pair[1] === undefined) {
      return {
        ok: false,
        problem: `entry "${name}=${value}" must be deployment=input:output in USD per 1K tokens`,
      };
    }
    table[name] = { inputPer1K: pair[0], outputPer1K: pair[1] };
  }
  return { ok: true, value: table };
}

function schemaOf<T>(parse: (raw: string) => Parsed<T>) {
  return z.string().transform((raw, ctx): T => {
    const parsed = parse(raw);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    return parsed.value;
  });
}

/** `BATON_QUOTAS` in the env schema. */
export const quotaTableSchema = schemaOf(parseQuotaTable);
/** `BATON_PRICES` in the env schema. */
export const priceTableSchema = schemaOf(parsePriceTable);

/**
 * The quota table: `BATON_QUOTAS` plus every `BATON_QUOTA_<DEPLOYMENT>` variable (keyed by `<DEPLOYMENT>`, which
 * matches deployments by `quotaKey`). `problems` name the variables that do not parse.
 */
export function quotasFromEnv(
  base: QuotaTable | undefined,
  env: Record<string, string | undefined>,
): { quotas: QuotaTable; problems: string[] } {
  const quotas: QuotaTable = Object.assign(emptyTable<QuotaLimit>(), base);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(QUOTA_VARIABLE_PREFIX) || value === undefined || value === '') continue;
    const deployment = name.slice(QUOTA_VARIABLE_PREFIX.length);
    const limit = deployment ? parseQuotaLimit(value) : undefined;
    if (!limit) {
      problems.push(`${name} must be rpm:tpm with positive whole numbers (got "${value}")`);
      continue;
    }
    // The variable wins over a BATON_QUOTAS entry for the same deployment.
    for (const key of Object.keys(quotas)) {
      if (key.toUpperCase().replace(/[^A-Z0-9]/g, '_') === deployment) delete quotas[key];
    }
    quotas[deployment] = limit;
  }
  return { quotas, problems };
}
