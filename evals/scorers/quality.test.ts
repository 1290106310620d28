import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newsDeskQuality, supportDeskQuality } from './quality.js';

const expected = {
  isBusiness: true,
  companies: [
    { name: 'Northwind Traders', direction: 'increase' },
    { name: 'Halvorsen Marine', direction: 'decrease' },
  ],
  summary: 'Northwind Traders posted a record profit',
};

describe('newsDeskQuality', () => {
  it('combines the parts with the documented weights', () => {
    const r = newsDeskQuality(expected, {
      title: 'x',
      isBusiness: true,
      companies: [
        { name: 'Northwind Traders Ltd', direction: 'increase', reason: 'r' },
        { name: 'Acme', direction: 'decrease', reason: 'r' },
      ],
      summary: 'Northwind Traders posted record profit.',
    });
    // isBusiness ✓ = 1
    // company F1: matched Northwind only; P = 1/2, R = 1/2 → F1 = 0.5
    // direction over matched: Northwind increase = increase → 1
    // ROUGE-L: ref 6 tokens, cand 5 tokens, LCS 5 → P = 1, R = 5/6, F = 2·(5/6)/(11/6) = 10/11
    // score = 0.2·1 + 0.4·0.5 + 0.25·1 + 0.15·10/11 = 0.65 + 15/110 ≈ 0.786364
    expect(r.components).toEqual({ isBusiness: 1, companyF1: 0.5, direction: 1, summary: 10 / 11 });
    expect(r.score).toBeCloseTo(0.65 + 1.5 / 11, 12);
  });

  it('gives a perfect output 1 and a non-business article with no companies full marks', () => {
    expect(newsDeskQuality(expected, { ...expected, title: 't' }).score).toBe(1);
    const sport = { isBusiness: false, companies: [], summary: 'City won the derby' };
    expect(
      newsDeskQuality(sport, { isBusiness: false, companies: [], summary: 'City won the derby' }).score,
    ).toBe(1);
    // listing a stadium sponsor as a company costs F1 (0) and direction (0): 0.2 + 0.15 = 0.35
    expect(
      newsDeskQuality(sport, {
        isBusiness: false,
        companies: [{ name: 'Meridian Bank', direction: 'stay' }],
        summary: 'City won the derby',
      }).score,
    ).toBeCloseTo(0.35, 12);
  });

  it('scores 0 for what is missing or ill-typed, never throwing', () => {
    for (const actual of [undefined, null, 'text', 42, [], {}])
      expect(newsDeskQuality(expected, actual).score).toBe(0);
    expect(newsDeskQuality(expected, { isBusiness: 'true', companies: 'Northwind', summary: 7 }).score).toBe(
      0,
    );
    // only isBusiness right: 0.2
    expect(newsDeskQuality(expected, { isBusiness: true }).score).toBeCloseTo(0.2, 12);
    // companies with bad entries: the entry without a name is dropped, the bad direction counts as wrong
    // F1: {Northwind} vs expected 2 → P = 1, R = 1/2, F1 = 2/3; direction 0/1 → 0
    // score = 0.4·2/3 = 0.2667
    const r = newsDeskQuality(expected, {
      companies: [{ name: 'Northwind Traders', direction: 3 }, { direction: 'stay' }],
    });
    expect(r.components.companyF1).toBeCloseTo(2 / 3, 12);
    expect(r.components.direction).toBe(0);
    expect(r.score).toBeCloseTo(0.8 / 3, 12);
  });

  it('stays in [0, 1] for arbitrary output', () => {
    fc.assert(
      fc.property(fc.anything(), (actual) => {
        const { score } = newsDeskQuality(expected, actual);
        expect(score >= 0 && score <= 1).toBe(true);
      }),
    );
  });
});

describe('supportDeskQuality', () => {
  const label = { specialist: 'billing', category: 'refund' };

  it('is 0.6·specialist + 0.4·category', () => {
    expect(supportDeskQuality(label, { specialist: 'billing', category: 'refund', reply: 'r' }).score).toBe(
      1,
    );
    // specialist ✓, category ✗ → 0.6
    expect(supportDeskQuality(label, { specialist: 'billing', category: 'invoice' }).score).toBeCloseTo(
      0.6,
      12,
    );
    // specialist ✗, category ✓ (inconsistent output) → 0.4
    expect(supportDeskQuality(label, { specialist: 'account', category: 'refund' }).score).toBeCloseTo(
      0.4,
      12,
    );
    expect(supportDeskQuality(label, { specialist: 'account', category: 'closure' }).score).toBe(0);
  });

  it('never throws on ill-typed output', () => {
    fc.assert(
      fc.property(fc.anything(), (actual) => {
        const { score } = supportDeskQuality(label, actual);
        expect([0, 0.4, 0.6, 1]).toContain(score);
      }),
    );
  });
});
