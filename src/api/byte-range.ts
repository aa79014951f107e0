import type { ByteRange } from '../storage/storage.js';

/**
 * What a `Range` request header asks of an object of `size` bytes (RFC 9110 §14.1–14.2):
 * - `full`: serve the whole object with 200 — no header, another unit, a header that does not
 *   parse, or several ranges (a server may ignore Range; browsers and players ask for one);
 * - `partial`: serve these bytes with 206 (an end past the object is cut to its last byte, a
 *   suffix `-n` longer than the object is the whole of it);
 * - `unsatisfiable`: 416 — the range starts at or past the end (every range of an empty object).
 *
 * @example parseRange('bytes=0-1', 10) // { kind: 'partial', range: { start: 0, end: 1 } }
 */
export function parseRange(header: string | undefined, size: number): { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' } {
  const match = header === undefined ? null : /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) } };
}
