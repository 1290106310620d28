import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lcsLength, rougeL, tokenize } from './rouge.js';

describe('tokenize', () => {
  it('lower-cases and splits on anything that is not a letter or digit', () => {
    expect(tokenize("The company's Q3 profit rose 12% (to 1.2bn)!")).toEqual([
      'the',
      'companys',
      'q3',
      'profit',
      'rose',
      '12',
      'to',
      '1',
      '2bn',
    ]);
    expect(tokenize('  ,;  ')).toEqual([]);
  });
});

describe('lcsLength', () => {
  it('finds the longest common subsequence', () => {
    // a b c b d a b  vs  b d c a b a: one LCS is "b c b a" → 4
    expect(lcsLength(['a', 'b', 'c', 'b', 'd', 'a', 'b'], ['b', 'd', 'c', 'a', 'b', 'a'])).toBe(4);
    expect(lcsLength([], ['a'])).toBe(0);
  });
});

describe('rougeL', () => {
  it('computes P, R and F from the LCS of two short sentences', () => {
    // reference: the cat sat on the mat (6 tokens); candidate: the cat lay on the red mat (7 tokens)
    // LCS = "the cat on the mat" = 5 → P = 5/7, R = 5/6
    // F = 2·(5/7)(5/6) / (5/7 + 5/6) = (50/42) / (65/42) = 50/65 = 10/13 ≈ 0.7692
    const r = rougeL('The cat sat on the mat.', 'the cat lay on the red mat');
    expect(r.lcs).toBe(5);
    expect(r.precision).toBeCloseTo(5 / 7, 12);
    expect(r.recall).toBeCloseTo(5 / 6, 12);
    expect(r.f).toBeCloseTo(10 / 13, 12);
  });

  it('weights recall with beta', () => {
    // P = 1/2 (1 of 2 candidate tokens), R = 1 (1 of 1 reference token), β = 2:
    // F = (1+4)·0.5·1 / (1 + 4·0.5) = 2.5 / 3 = 5/6
    expect(rougeL('profit', 'profit rose', 2).f).toBeCloseTo(5 / 6, 12);
  });

  it('defines empty inputs', () => {
    expect(rougeL('', '').f).toBe(1);
    expect(rougeL('', 'something').f).toBe(0);
    expect(rougeL('something', '...').f).toBe(0);
    expect(rougeL('alpha beta', 'gamma delta').f).toBe(0);
  });

  it('is 1 for identical texts and symmetric in F1', () => {
    const text = fc.array(fc.constantFrom('profit', 'rose', 'the', 'company', 'fell', 'Shares', '12'), {
      maxLength: 12,
    });
    fc.assert(
      fc.property(text, text, (a, b) => {
        const sa = a.join(' ');
        const sb = b.join(' ');
        expect(rougeL(sa, sa).f).toBe(1);
        const f = rougeL(sa, sb).f;
        expect(f >= 0 && f <= 1).toBe(true);
        expect(rougeL(sb, sa).f).toBeCloseTo(f, 12);
      }),
    );
  });
});
