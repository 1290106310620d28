import { describe, expect, it } from 'vitest';
import { citedArticles, groundingScore } from './grounding.js';

const kb = ['billing-refund-window', 'billing-payment-declined', 'account-closure'];

describe('groundingScore', () => {
  it('finds quoted and named article ids, and scores the real ones and the expected one', () => {
    const reply =
      'We refunded the charge (see billing-refund-window). Tool result: "{"results":[{"id":"billing-payment-declined","title":"x"},{"id":"made-up-article"}]}"';
    expect(citedArticles(reply, kb)).toEqual([
      'billing-payment-declined',
      'made-up-article',
      'billing-refund-window',
    ]);
    const score = groundingScore(reply, kb, 'billing-refund-window');
    expect(score.precision).toBeCloseTo(2 / 3);
    expect(score.hit).toBe(1);
    expect(groundingScore(reply, kb, 'account-closure').hit).toBe(0);
  });

  it('a reply citing nothing has nothing wrong in it but misses the expected article', () => {
    expect(groundingScore('Thanks, all done.', kb, 'account-closure')).toEqual({
      cited: [],
      precision: 1,
      hit: 0,
    });
    expect(groundingScore('Thanks.', kb).hit).toBeUndefined();
  });
});
