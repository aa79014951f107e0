import { describe, expect, it } from 'vitest';
import { rememberBounded } from '../../src/lib/remember-bounded.js';

describe('rememberBounded', () => {
  it('keeps the newest entries: beyond the bound the oldest goes, and setting a key again makes it newest', () => {
    const map = new Map<string, number>();
    rememberBounded(map, 'a', 1, 2);
    rememberBounded(map, 'b', 2, 2);
    rememberBounded(map, 'a', 3, 2);
    rememberBounded(map, 'c', 4, 2);
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
