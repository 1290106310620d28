import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeCompanyName } from './company-names.js';
import { setF1 } from './set-f1.js';

describe('normalizeCompanyName', () => {
  it.each([
    ['Northwind Traders', 'northwind traders'],
    ['  NORTHWIND   traders, Inc. ', 'northwind traders'],
    ['The Northwind Traders Ltd', 'northwind traders'],
    ['Acme Holdings Group plc', 'acme'],
    ['Siemens AG', 'siemens'],
    ['Nestlé S.A.', 'nestle'],
    ['U.S. Steel Corp', 'us steel'],
    ['Nestlé SA', 'nestle'],
    ['Marlowe & Finch', 'marlowe and finch'],
    ["Macy's", 'macys'],
    ['Rolls-Royce Holdings', 'rolls royce'],
    ['Stratus Cloud Corp.', 'stratus cloud'],
    ['Kaffa Roasters Co', 'kaffa roasters'],
    ['Group', 'group'],
    ['The', 'the'],
  ])('%s → %s', (name, normalised) => {
    expect(normalizeCompanyName(name)).toBe(normalised);
  });
});

describe('setF1', () => {
  it('scores {A,B,C} against {B,C,D} as 2/3 each', () => {
    // matched {B, C} = 2; precision = 2/3, recall = 2/3, F1 = 2·(2/3)(2/3)/(4/3) = 2/3
    const r = setF1(['A', 'B', 'C'], ['B', 'C', 'D']);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBeCloseTo(2 / 3, 12);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
    expect(r.matched.map((m) => m.expected)).toEqual(['B', 'C']);
    expect(r.missed).toEqual(['A']);
    expect(r.extra).toEqual(['D']);
  });

  it('matches names after normalisation', () => {
    // matched: Northwind, Acme = 2; precision = 2/3 (Initech extra), recall = 2/2 = 1;
    // F1 = 2·(2/3)·1 / (2/3 + 1) = (4/3)/(5/3) = 0.8
    const r = setF1(['Northwind Traders Inc.', 'The Acme Group'], ['northwind traders', 'ACME', 'Initech']);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBe(1);
    expect(r.f1).toBeCloseTo(0.8, 12);
    expect(r.matched).toEqual([
      { key: 'northwind traders', expected: 'Northwind Traders Inc.', actual: 'northwind traders' },
      { key: 'acme', expected: 'The Acme Group', actual: 'ACME' },
    ]);
  });

  it('counts duplicates once', () => {
    // actual {Acme} after dedup: precision 1/1, recall 1/2, F1 = 2·1·0.5/1.5 = 2/3
    const r = setF1(['Acme', 'Initech'], ['Acme', 'acme inc']);
    expect(r.precision).toBe(1);
    expect(r.recall).toBe(0.5);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
  });

  it('defines the empty cases', () => {
    expect(setF1([], [])).toMatchObject({ precision: 1, recall: 1, f1: 1 });
    expect(setF1([], ['Acme'])).toMatchObject({ precision: 0, recall: 1, f1: 0 });
    expect(setF1(['Acme'], [])).toMatchObject({ precision: 1, recall: 0, f1: 0 });
    expect(setF1(['Acme'], ['Initech'])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('keeps precision, recall and F1 in [0, 1], F1 symmetric in its arguments', () => {
    const names = fc.array(
      fc.constantFrom('Acme', 'acme inc', 'Initech', 'Globex', 'The Globex Corp', 'Umbrella'),
      {
        maxLength: 6,
      },
    );
    fc.assert(
      fc.property(names, names, (e, a) => {
        const r = setF1(e, a);
        for (const v of [r.precision, r.recall, r.f1]) expect(v >= 0 && v <= 1).toBe(true);
        expect(setF1(a, e).f1).toBeCloseTo(r.f1, 12);
        expect(setF1(e, e).f1).toBe(1);
      }),
    );
  });
});
