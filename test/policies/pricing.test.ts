import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { PriceTable } from '../../src/config/tables.js';
import { costOf, createCostCalculator, priceFor } from '../../src/policies/pricing.js';

const prices: PriceTable = {
  'gpt-4o': { inputPer1K: 0.0025, outputPer1K: 0.01 },
  'gpt-4o-mini': { inputPer1K: 0.00015, outputPer1K: 0.0006 },
};

describe('pricing', () => {
  it('prices input and output tokens per 1K', () => {
    expect(costOf('gpt-4o', { inputTokens: 1000, outputTokens: 1000 }, prices)).toBe(0.0125);
    // 1.234 × 0.0025 + 0.567 × 0.01 = 0.003085 + 0.00567
    expect(costOf('gpt-4o', { inputTokens: 1234, outputTokens: 567 }, prices)).toBe(0.008755);
    expect(costOf('gpt-4o-mini', { inputTokens: 10_000, outputTokens: 2_000 }, prices)).toBe(0.0027);
    expect(costOf('gpt-4o', { inputTokens: 0, outputTokens: 0 }, prices)).toBe(0);
  });

  it('has no cost for deployments without a price, unless "*" prices the rest', () => {
    expect(costOf('o3', { inputTokens: 1000, outputTokens: 1000 }, prices)).toBeUndefined();
    expect(costOf(undefined, { inputTokens: 1000, outputTokens: 1000 }, prices)).toBeUndefined();
    const withDefault = { ...prices, '*': { inputPer1K: 0.001, outputPer1K: 0.002 } };
    expect(costOf('o3', { inputTokens: 1000, outputTokens: 500 }, withDefault)).toBe(0.002);
  });

  it('matches names like quota keys (case, -, . and _ alike)', () => {
    expect(priceFor('GPT_4O_MINI', prices)).toEqual(prices['gpt-4o-mini']);
  });

  it("a calculator prices an agent without a deployment at the provider's default", () => {
    const cost = createCostCalculator(prices, 'gpt-4o-mini');
    expect(cost(undefined, { inputTokens: 1000, outputTokens: 0 })).toBe(0.00015);
    expect(cost('gpt-4o', { inputTokens: 1000, outputTokens: 0 })).toBe(0.0025);
  });

  it('reads BATON_PRICES as deployment=in:out or JSON', () => {
    expect(
      loadConfig({ BATON_PRICES: 'gpt-4o=0.0025:0.01, gpt-4o-mini=0.00015:0.0006' }).models.prices,
    ).toEqual(prices);
    expect(
      loadConfig({
        BATON_PRICES:
          '{"gpt-4o":{"input":0.0025,"output":0.01},"gpt-4o-mini":{"inputPer1K":0.00015,"outputPer1K":0.0006}}',
      }).models.prices,
    ).toEqual(prices);
    expect(loadConfig({}).models.prices).toEqual({});
  });

  it('rejects malformed prices with one sentence naming the variable', () => {
    expect(() => loadConfig({ BATON_PRICES: 'gpt-4o=cheap' })).toThrow(
      /^Invalid configuration: BATON_PRICES entry "gpt-4o=cheap" must be deployment=input:output in USD per 1K tokens/,
    );
    expect(() => loadConfig({ BATON_PRICES: 'gpt-4o=0.1' })).toThrow(/BATON_PRICES entry "gpt-4o=0.1"/);
    expect(() => loadConfig({ BATON_PRICES: '{"gpt-4o": 3}' })).toThrow(
      /BATON_PRICES entry "gpt-4o" must be/,
    );
  });
});

describe('price lookups by client-chosen names', () => {
  it('never resolve a name to an inherited property ("constructor", "__proto__", "toString")', () => {
    const table = loadConfig({ BATON_PRICES: 'gpt-4o=0.0025:0.01' }).models.prices;
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(priceFor(name, table), name).toBeUndefined();
      expect(costOf(name, { inputTokens: 1000, outputTokens: 1000 }, table), name).toBeUndefined();
    }
  });

  it('price such names at "*" like any other unlisted deployment', () => {
    const table = loadConfig({ BATON_PRICES: 'gpt-4o=0.0025:0.01,*=0.001:0.002' }).models.prices;
    expect(costOf('constructor', { inputTokens: 1000, outputTokens: 500 }, table)).toBe(0.002);
    // A table written as a plain object literal is safe too.
    const literal: PriceTable = { '*': { inputPer1K: 0.001, outputPer1K: 0.002 } };
    expect(costOf('constructor', { inputTokens: 1000, outputTokens: 500 }, literal)).toBe(0.002);
  });
});
