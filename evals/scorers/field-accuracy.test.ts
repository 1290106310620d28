import { describe, expect, it } from 'vitest';
import { deepEqual, exactMatch, fieldAccuracy } from './field-accuracy.js';

describe('fieldAccuracy', () => {
  const expected = {
    title: 'A',
    isBusiness: true,
    companies: [{ name: 'X', direction: 'stay' }],
    summary: 's',
  };

  it('returns the fraction of equal fields with per-field results', () => {
    const actual = {
      title: 'A',
      isBusiness: false,
      companies: [{ direction: 'stay', name: 'X' }],
      summary: 'other',
    };
    const r = fieldAccuracy(expected, actual, ['title', 'isBusiness', 'companies', 'summary']);
    // title ✓, isBusiness ✗, companies ✓ (key order does not matter), summary ✗ → 2 / 4 = 0.5
    expect(r.accuracy).toBe(0.5);
    expect(r.correct).toBe(2);
    expect(r.total).toBe(4);
    expect(r.fields.map((f) => [f.field, f.correct])).toEqual([
      ['title', true],
      ['isBusiness', false],
      ['companies', true],
      ['summary', false],
    ]);
  });

  it('scores missing or ill-typed output as wrong instead of throwing', () => {
    // undefined, a string and null have no fields: 0 / 2 correct
    for (const actual of [undefined, 'text', null]) {
      expect(fieldAccuracy(expected, actual, ['title', 'isBusiness']).accuracy).toBe(0);
    }
    // only title matches: 1 / 2
    expect(
      fieldAccuracy(expected, { title: 'A', isBusiness: 'true' }, ['title', 'isBusiness']).accuracy,
    ).toBe(0.5);
  });

  it('is 1 for an empty field list (nothing to get wrong)', () => {
    expect(fieldAccuracy(expected, {}, []).accuracy).toBe(1);
  });
});

describe('deepEqual / exactMatch', () => {
  it('compares structurally', () => {
    expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(deepEqual([], {})).toBe(false);
    expect(exactMatch({ specialist: 'billing' }, { specialist: 'billing' })).toBe(true);
    expect(exactMatch({ specialist: 'billing' }, { specialist: 'account' })).toBe(false);
  });
});
