import { describe, expect, it } from 'vitest';
import { describeValue } from '../../src/errors/atelier-error.js';

describe('describeValue', () => {
  it('reads like JSON.stringify for ordinary values, truncated at 40 characters', () => {
    for (const value of [0, -1.5, true, null, [1, 'a', null], { a: 1, b: [true, { c: 'd' }] }, new Date(0), [undefined, () => 1], { skip: undefined, keep: 1 }]) {
      const json = JSON.stringify(value);
      expect(describeValue(value)).toBe(json.length > 40 ? `${json.slice(0, 40)}…` : json);
    }
    expect(describeValue({ long: 'x'.repeat(100) })).toBe(`{"long":"${'x'.repeat(31)}…`);
    expect(describeValue('many')).toBe("'many'");
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue(Number.NaN)).toBe('null');
  });

  it('describes a value nested 100 000 deep without overflowing the stack', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(describeValue(deep)).toBe(`${'['.repeat(40)}…`);
    const parsed = JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) as unknown;
    expect(describeValue(parsed)).toBe(`${'['.repeat(40)}…`);
  });

  it('stops early on a huge flat value and survives cycles', () => {
    expect(describeValue(Array.from({ length: 1_000_000 }, (_, i) => i))).toBe(`${JSON.stringify(Array.from({ length: 20 }, (_, i) => i)).slice(0, 40)}…`);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(describeValue(cycle)).toBe('{"a":1,"self":[Circular]}');
  });
});
