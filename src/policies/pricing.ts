import { entryForDeployment, type Price, type PriceTable } from '../config/tables.js';
import type { TokenUsage } from '../core/model.js';

/**
 * Optional prices per deployment (BATON_PRICES, USD per 1 000 tokens), turned into `costUsd` for a call's usage.
 * Deployments without a price have no cost (`undefined`), so a run's `costUsd` is only reported when every
 * deployment it used is priced.
 */

export function priceFor(deployment: string, prices: PriceTable): Price | undefined {
  return entryForDeployment(prices, deployment);
}

/** Rounds away floating-point noise (1e-10 USD is far below any price). */
function round(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

/** The cost in USD of `usage` on `deployment`, or `undefined` when the deployment has no price. */
export function costOf(
  deployment: string | undefined,
  usage: TokenUsage,
  prices: PriceTable,
): number | undefined {
  if (deployment === undefined) return undefined;
  const price = priceFor(deployment, prices);
  if (!price) return undefined;
  const usd = (usage.inputTokens / 1000) * price.inputPer1K + (usage.outputTokens / 1000) * price.outputPer1K;
  // A cost that is not a number would make the run record unreadable; no cost is the honest answer.
  return Number.isFinite(usd) ? round(usd) : undefined;
}

/**
 * A `costOf(deployment, usage)` bound to a price table, in the shape the agent runtime takes; an agent without
 * a deployment is priced as `defaultDeployment` (the provider's configured default).
 */
export function createCostCalculator(
  prices: PriceTable,
  defaultDeployment?: string,
): (deployment: string | undefined, usage: TokenUsage) => number | undefined {
  return (deployment, usage) => costOf(deployment ?? defaultDeployment, usage, prices);
}
