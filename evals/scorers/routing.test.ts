import { describe, expect, it } from 'vitest';
import { routingAccuracy, routingScore } from './routing.js';

describe('routingScore', () => {
  it('scores specialist and category separately', () => {
    const expected = { specialist: 'billing', category: 'refund' };
    expect(routingScore(expected, { specialist: 'billing', category: 'refund', reply: 'ok' })).toEqual({
      specialist: 1,
      category: 1,
    });
    expect(routingScore(expected, { specialist: 'billing', category: 'invoice' })).toEqual({
      specialist: 1,
      category: 0,
    });
    expect(routingScore(expected, { specialist: 'account', category: 'closure' })).toEqual({
      specialist: 0,
      category: 0,
    });
  });

  it('scores missing or ill-typed output as 0', () => {
    const expected = { specialist: 'technical', category: 'bug' };
    for (const actual of [undefined, null, 'technical', 42, {}, { specialist: ['technical'], category: 7 }]) {
      expect(routingScore(expected, actual)).toEqual({ specialist: 0, category: 0 });
    }
  });
});

describe('routingAccuracy', () => {
  it('averages over cases', () => {
    // case 1: specialist ✓ category ✓; case 2: ✓ ✗; case 3: ✗ ✗; case 4: ✓ ✓
    // specialist 3/4 = 0.75, category 2/4 = 0.5, both 2/4 = 0.5
    const r = routingAccuracy([
      {
        expected: { specialist: 'billing', category: 'refund' },
        actual: { specialist: 'billing', category: 'refund' },
      },
      {
        expected: { specialist: 'billing', category: 'refund' },
        actual: { specialist: 'billing', category: 'invoice' },
      },
      {
        expected: { specialist: 'account', category: 'login' },
        actual: { specialist: 'technical', category: 'bug' },
      },
      {
        expected: { specialist: 'account', category: 'login' },
        actual: { specialist: 'account', category: 'login' },
      },
    ]);
    expect(r).toEqual({ n: 4, specialist: 0.75, category: 0.5, both: 0.5 });
  });

  it('is all zeros for no cases', () => {
    expect(routingAccuracy([])).toEqual({ n: 0, specialist: 0, category: 0, both: 0 });
  });
});
