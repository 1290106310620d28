import { describe, expect, it } from 'vitest';
import { parseOptionFlags } from '../../src/runs/option-flags.js';

describe('run option flags (baton run --option, baton eval --option)', () => {
  it('nest dotted names and recognise numbers and booleans', () => {
    expect(parseOptionFlags({ maxModelCalls: '10', 'model.deployment': 'gpt-4o', stream: 'true' })).toEqual({
      maxModelCalls: 10,
      model: { deployment: 'gpt-4o' },
      stream: true,
    });
  });

  it('cannot pollute prototypes: __proto__, constructor and prototype are refused as option names', () => {
    const tries: Record<string, string>[] = [
      { '__proto__.polluted': '1' },
      { 'constructor.prototype.polluted': '1' },
      { 'model.__proto__.polluted': '1' },
      { __proto__: 'x' } as unknown as Record<string, string>,
    ];
    // A flag named "__proto__" as the CLI builds it: an own property, not the prototype.
    tries.push(Object.defineProperty({}, '__proto__.polluted', { value: '1', enumerable: true }));
    for (const flags of tries) {
      try {
        parseOptionFlags(flags);
      } catch (err) {
        expect((err as Error).message).toMatch(/Invalid run option/);
      }
      expect(({} as Record<string, unknown>).polluted, JSON.stringify(Object.keys(flags))).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    }
    expect(() => parseOptionFlags({ '__proto__.polluted': '1' })).toThrow(
      'Invalid run option "__proto__.polluted": "__proto__" is not an option name.',
    );
  });

  it('refuses a name used both as a value and as a group', () => {
    expect(() => parseOptionFlags({ model: 'x', 'model.deployment': 'gpt-4o' })).toThrow(
      /"model" is already set to a value/,
    );
  });
});
