import { describe, expect, it } from 'vitest';
import { directionAccuracy } from './direction.js';

describe('directionAccuracy', () => {
  it('scores only the companies both sides name', () => {
    // matched: Acme (increase = increase ✓), Initech (decrease ≠ stay ✗); Globex and Umbrella unmatched
    // accuracy = 1 / 2 = 0.5
    const r = directionAccuracy(
      [
        { name: 'Acme', direction: 'increase' },
        { name: 'Initech', direction: 'decrease' },
        { name: 'Globex', direction: 'stay' },
      ],
      [
        { name: 'ACME Inc.', direction: 'increase' },
        { name: 'initech', direction: 'stay' },
        { name: 'Umbrella', direction: 'decrease' },
      ],
    );
    expect(r.accuracy).toBe(0.5);
    expect(r.matched).toBe(2);
    expect(r.correct).toBe(1);
    expect(r.perCompany).toEqual([
      { name: 'Acme', expected: 'increase', actual: 'increase', correct: true },
      { name: 'Initech', expected: 'decrease', actual: 'stay', correct: false },
    ]);
  });

  it('is 1 when neither side lists a company and 0 when nothing matched otherwise', () => {
    expect(directionAccuracy([], []).accuracy).toBe(1);
    expect(directionAccuracy([{ name: 'Acme', direction: 'stay' }], []).accuracy).toBe(0);
    expect(directionAccuracy([], [{ name: 'Acme', direction: 'stay' }]).accuracy).toBe(0);
    expect(
      directionAccuracy([{ name: 'Acme', direction: 'stay' }], [{ name: 'Initech', direction: 'stay' }])
        .accuracy,
    ).toBe(0);
  });

  it('uses the first entry when a side lists a company twice', () => {
    // actual Acme → first entry "decrease" ≠ "increase": 0 / 1
    const r = directionAccuracy(
      [{ name: 'Acme', direction: 'increase' }],
      [
        { name: 'Acme', direction: 'decrease' },
        { name: 'Acme Ltd', direction: 'increase' },
      ],
    );
    expect(r.accuracy).toBe(0);
    expect(r.matched).toBe(1);
  });
});
