import { z } from 'zod';
import { emptyTable, ownEntry } from './tables.js';

/**
 * `BATON_TENANT_LIMITS`: limits per tenant (API key id), off unless set. Groups separated by `;`, each an optional
 * `<key id>:` (none, or `*:`, for the default of every key) and `name=value` pairs separated by `,`:
 *
 *     inflight=5,perMinute=30,tokensPerDay=200000; 3fa2b1c4d5e6f708:inflight=20,tokensPerDay=none
 *
 * - `inflight`: runs queued or running at once;
 * - `perMinute`: runs created in any 60 s;
 * - `tokensPerDay`: tokens (input + output) of the runs that finished this UTC day.
 *
 * A value is a positive whole number or `none` (no limit). A key's group overrides only the names it sets. JSON
 * works too: `{"*": {"inflight": 5}, "3fa2b1c4d5e6f708": {"tokensPerDay": null}}` (null: no limit). A key id is
 * the first 16 hex digits of the SHA-256 of the key (`GET /v1/tenants` lists them).
 */

export const tenantLimitNames = ['inflight', 'perMinute', 'tokensPerDay'] as const;
export type TenantLimitName = (typeof tenantLimitNames)[number];

/** A group of limits: a number, `null` for no limit, absent to inherit the default. */
export type TenantLimitGroup = Partial<Record<TenantLimitName, number | null>>;

/** The limits that apply to one tenant; undefined: no limit. */
export type TenantLimits = Record<TenantLimitName, number | undefined>;

export interface TenantLimitTable {
  defaults: TenantLimitGroup;
  byKeyId: Record<string, TenantLimitGroup>;
}

/** The limits of `keyId`: its own group over the defaults. */
export function tenantLimitsFor(table: TenantLimitTable | undefined, keyId: string): TenantLimits {
  const own = table ? (ownEntry(table.byKeyId, keyId) ?? {}) : {};
  const pick = (name: TenantLimitName) => {
    const value = name in own ? own[name] : table?.defaults[name];
    return value ?? undefined;
  };
  return { inflight: pick('inflight'), perMinute: pick('perMinute'), tokensPerDay: pick('tokensPerDay') };
}

type Parsed = { ok: true; value: TenantLimitTable } | { ok: false; problem: string };

function parseValue(text: string): number | null | undefined {
  const t = text.trim();
  if (t === 'none') return null;
  return /^[1-9]\d*$/.test(t) ? Number(t) : undefined;
}

function parseGroup(text: string): TenantLimitGroup | string {
  const group: TenantLimitGroup = {};
  for (const pair of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const value = at > 0 ? parseValue(pair.slice(at + 1)) : undefined;
    if (!(tenantLimitNames as readonly string[]).includes(name) || value === undefined) return pair;
    group[name as TenantLimitName] = value;
  }
  return group;
}

function parseText(raw: string): Parsed {
  const table: TenantLimitTable = { defaults: {}, byKeyId: emptyTable() };
  for (const groupText of raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    // `<key id>:` before the first `=` names the key the group is for; without it, the group is the default.
    const colon = groupText.indexOf(':');
    const eq = groupText.indexOf('=');
    const hasKey = colon > 0 && (eq < 0 || colon < eq);
    const keyId = hasKey ? groupText.slice(0, colon).trim() : '*';
    const group = parseGroup(hasKey ? groupText.slice(colon + 1) : groupText);
    if (typeof group === 'string') {
      return {
        ok: false,
        problem: `entry "${group}" must be inflight, perMinute or tokensPerDay = a positive whole number or none`,
      };
    }
    if (keyId === '*') Object.assign(table.defaults, group);
    else table.byKeyId[keyId] = { ...(table.byKeyId[keyId] ?? {}), ...group };
  }
  return { ok: true, value: table };
}

const jsonLimit = z.union([z.number().int().positive(), z.null()]);
const jsonGroup = z
  .object({
    inflight: jsonLimit.optional(),
    perMinute: jsonLimit.optional(),
    tokensPerDay: jsonLimit.optional(),
  })
  .strict();

function parseJsonTable(raw: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
  const parsed = z.record(z.string().min(1), jsonGroup).safeParse(json);
  if (!parsed.success) {
    return { ok: false, problem: 'must map key ids (or "*") to {"inflight", "perMinute", "tokensPerDay"}' };
  }
  const table: TenantLimitTable = { defaults: {}, byKeyId: emptyTable() };
  for (const [keyId, group] of Object.entries(parsed.data)) {
    if (keyId === '*') table.defaults = group;
    else table.byKeyId[keyId] = group;
  }
  return { ok: true, value: table };
}

/** `BATON_TENANT_LIMITS` in the env schema. */
export const tenantLimitsSchema = z.string().transform((raw, ctx): TenantLimitTable => {
  const parsed = raw.trim().startsWith('{') ? parseJsonTable(raw) : parseText(raw);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.value;
});

/** Tenants' weights by key id (`*`: everyone else); a tenant's share of a saturated deployment. */
export type TenantWeights = Record<string, number>;

/**
 * `BATON_TENANT_WEIGHTS`: `<key id>=<weight>,…` with positive numbers, `*` for tenants not listed (default 1).
 * With weights 3 and 1, a saturated deployment grants the first tenant three times the tokens of the second.
 */
export const tenantWeightsSchema = z.string().transform((raw, ctx) => {
  const table: TenantWeights = emptyTable();
  for (const pair of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const value = Number(pair.slice(at + 1).trim());
    if (at <= 0 || !name || !Number.isFinite(value) || value <= 0) {
      ctx.addIssue({ code: 'custom', message: `entry "${pair}" must be <key id>=<positive number>` });
      return z.NEVER;
    }
    table[name] = value;
  }
  return table;
});

/** The weight of `tenant`: its own, else `*`, else 1. */
export function tenantWeight(weights: TenantWeights, tenant: string): number {
  return ownEntry(weights, tenant) ?? ownEntry(weights, '*') ?? 1;
}
