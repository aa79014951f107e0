import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/api/byte-range.js';

describe('parseRange', () => {
  const partial = (start: number, end: number) => ({ kind: 'partial', range: { start, end } });

  it('reads a first-last range, an open-ended one and a suffix', () => {
    expect(parseRange('bytes=0-1', 10)).toEqual(partial(0, 1));
    expect(parseRange('bytes=4-', 10)).toEqual(partial(4, 9));
    expect(parseRange('bytes=-3', 10)).toEqual(partial(7, 9));
    expect(parseRange('bytes=9-9', 10)).toEqual(partial(9, 9));
  });

  it('cuts an end past the object to its last byte, and a suffix longer than it to the whole', () => {
    expect(parseRange('bytes=5-1000', 10)).toEqual(partial(5, 9));
    expect(parseRange('bytes=-1000', 10)).toEqual(partial(0, 9));
  });

  it('is unsatisfiable from or past the end, for a zero suffix, and for any range of an empty object', () => {
    expect(parseRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=10-20', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('serves the whole object for no header, another unit, nonsense, a reversed range or several ranges', () => {
    for (const header of [undefined, '', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=5-2', 'bytes=0-1,4-5', 'bytes=1.5-2', 'bytes 0-1']) {
      expect(parseRange(header, 10)).toEqual({ kind: 'full' });
    }
  });

  it('takes the unit in any case and spaces around the range', () => {
    expect(parseRange('Bytes= 2-3 ', 10)).toEqual(partial(2, 3));
  });
});
