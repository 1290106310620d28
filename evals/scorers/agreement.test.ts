import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cohenKappa, judgeAgreement, pearson, quadraticWeightedKappa, ranks, spearman } from './agreement.js';

describe('pearson / spearman', () => {
  const x = [1, 2, 3, 4, 5];
  const y = [2, 4, 5, 4, 5];

  it('computes Pearson r by hand', () => {
    // mean x = 3, mean y = 4; dx = −2 −1 0 1 2; dy = −2 0 1 0 1
    // Σdxdy = 4 + 0 + 0 + 0 + 2 = 6; Σdx² = 10; Σdy² = 4 + 0 + 1 + 0 + 1 = 6
    // r = 6 / √(10·6) = 6 / √60 ≈ 0.774597
    expect(pearson(x, y)).toBeCloseTo(6 / Math.sqrt(60), 12);
  });

  it('computes Spearman rho with tied ranks by hand', () => {
    // ranks y: 2→1, 4,4→2.5, 5,5→4.5 → [1, 2.5, 4.5, 2.5, 4.5]; ranks x = [1..5]
    // dy = −2 −0.5 1.5 −0.5 1.5; Σdxdy = 4 + 0.5 + 0 − 0.5 + 3 = 7; Σdy² = 4 + .25 + 2.25 + .25 + 2.25 = 9
    // rho = 7 / √(10·9) = 7 / √90 ≈ 0.737865
    expect(ranks(y)).toEqual([1, 2.5, 4.5, 2.5, 4.5]);
    expect(spearman(x, y)).toBeCloseTo(7 / Math.sqrt(90), 12);
  });

  it('is null when undefined and throws on unequal lengths', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1], [2])).toBeNull();
    expect(() => pearson([1, 2], [1])).toThrow(RangeError);
  });

  it('stays in [−1, 1]', () => {
    const sample = fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })), {
      minLength: 2,
      maxLength: 30,
    });
    fc.assert(
      fc.property(sample, (pairs) => {
        const a = pairs.map((p) => p[0]);
        const b = pairs.map((p) => p[1]);
        for (const r of [pearson(a, b), spearman(a, b)]) if (r !== null) expect(Math.abs(r) <= 1).toBe(true);
      }),
    );
  });
});

describe('cohenKappa', () => {
  it('matches a 2×2 table computed by hand', () => {
    // judge\human   pass  fail
    //   pass          4     1
    //   fail          2     3
    // p_o = (4 + 3)/10 = 0.7; judge pass 5/10, human pass 6/10
    // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5)/(1 − 0.5) = 0.4
    const judge = [...Array(4).fill(true), true, false, false, ...Array(3).fill(false)];
    const human = [...Array(4).fill(true), false, true, true, ...Array(3).fill(false)];
    expect(cohenKappa(judge, human)).toBeCloseTo(0.4, 12);
  });

  it('is 1 for perfect agreement, negative for systematic disagreement, null with no items', () => {
    expect(cohenKappa(['a', 'b', 'a'], ['a', 'b', 'a'])).toBe(1);
    // p_o = 0, p_e = 0.5·0.5 + 0.5·0.5 = 0.5 → κ = −0.5/0.5 = −1
    expect(cohenKappa([true, false], [false, true])).toBe(-1);
    // both raters constant on the same label: p_e = 1, taken as 1
    expect(cohenKappa([true, true], [true, true])).toBe(1);
    expect(cohenKappa([], [])).toBeNull();
  });
});

describe('quadraticWeightedKappa', () => {
  it('matches a hand computation on a 1–3 scale', () => {
    // a = [1,2,3,3], b = [1,3,3,2]; weights w = (i−j)²/4: w01 = w12 = 0.25, w02 = 1
    // observed off-diagonal: (2,3) and (3,2) → Σ w·O = 0.25 + 0.25 = 0.5
    // rows a = [1,1,2], cols b = [1,1,2]; Σ w·r_i·c_j = .25·1 + .25·1 + 1·2 + 1·2 + .25·2 + .25·2 = 5.5
    // Σ w·E = 5.5/4 = 1.375; κ_w = 1 − 0.5/1.375 = 1 − 4/11 = 7/11
    expect(quadraticWeightedKappa([1, 2, 3, 3], [1, 3, 3, 2], 1, 3)).toBeCloseTo(7 / 11, 12);
    expect(quadraticWeightedKappa([1, 5, 3], [1, 5, 3])).toBe(1);
  });
});

describe('judgeAgreement', () => {
  it('reports correlations and pass/fail kappa at a threshold', () => {
    const judge = [0.9, 0.8, 0.3, 0.6, 0.2];
    const human = [1.0, 0.7, 0.4, 0.4, 0.1];
    // pass (≥ 0.5): judge T T F T F, human T T F F F → 4/5 agree
    // p_o = 0.8; judge pass 3/5, human pass 2/5; p_e = 0.6·0.4 + 0.4·0.6 = 0.48
    // κ = (0.8 − 0.48)/(1 − 0.48) = 0.32/0.52 = 8/13
    const r = judgeAgreement(judge, human);
    expect(r.n).toBe(5);
    expect(r.passAgreement).toBeCloseTo(0.8, 12);
    expect(r.kappa).toBeCloseTo(8 / 13, 12);
    expect(r.pearson).toBeCloseTo(pearson(judge, human)!, 12);
    expect(r.spearman).toBeCloseTo(spearman(judge, human)!, 12);
    expect(r.quadraticKappa).toBeNull();
  });

  it('adds quadratic-weighted kappa for 1–5 ratings when given the scale', () => {
    const r = judgeAgreement([5, 4, 2], [5, 4, 2], { threshold: 3, scale: { min: 1, max: 5 } });
    expect(r).toMatchObject({ kappa: 1, quadraticKappa: 1, pearson: 1, spearman: 1, passAgreement: 1 });
  });
});
