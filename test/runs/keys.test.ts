import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { indexKeys, isClusterPrefix, runIdOfEventsKey, runKeys, tenantKeys } from '../../src/runs/keys.js';

describe('the Redis key layout', () => {
  it('keeps the plain layout as it always was', () => {
    expect(isClusterPrefix('baton')).toBe(false);
    expect(runKeys('baton', 'r1')).toMatchObject({ record: 'baton:run:r1', journal: 'baton:run:r1:journal' });
    expect(runIdOfEventsKey('baton', runKeys('baton', 'r1').events)).toBe('r1');
  });

  it('puts one run’s keys in one slot, other runs elsewhere, and everything else in the prefix’s slot', () => {
    const prefix = '{baton}';
    const run = runKeys(prefix, 'r1');
    expect(run.journal).toBe('baton:run:{r1}:journal');
    expect(new Set(Object.values(run).map(calculateSlot))).toEqual(new Set([calculateSlot('r1')]));
    expect(runIdOfEventsKey(prefix, run.events)).toBe('r1');
    const slots = new Set(
      Array.from({ length: 50 }, (_, i) => calculateSlot(runKeys(prefix, `run-${i}`).record)),
    );
    expect(slots.size).toBeGreaterThan(40);
    const idx = indexKeys(prefix);
    const global = [
      idx.all,
      idx.live,
      idx.byOwner('o'),
      idx.tenants,
      tenantKeys(prefix, 'o').live,
      `${prefix}:runs:wait`,
    ];
    expect(new Set(global.map(calculateSlot))).toEqual(new Set([calculateSlot('baton')]));
  });
});
