import { describe, expect, it } from 'vitest';
import { expiryText } from '../../../web/src/features/history/expiry';

describe('expiryText', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('counts whole hours left, then minutes', () => {
    expect(expiryText(at(24 * 3_600_000), now)).toBe('expires in 24 h');
    expect(expiryText(at(23.99 * 3_600_000), now)).toBe('expires in 23 h');
    expect(expiryText(at(3_600_000), now)).toBe('expires in 1 h');
    expect(expiryText(at(59.5 * 60_000), now)).toBe('expires in 59 min');
    expect(expiryText(at(30_000), now)).toBe('expires soon');
  });

  it('says expired once the time has passed, and nothing for items that never expire', () => {
    expect(expiryText(at(0), now)).toBe('expired');
    expect(expiryText(at(-1), now)).toBe('expired');
    expect(expiryText(null, now)).toBeUndefined();
    expect(expiryText('not a date', now)).toBeUndefined();
  });
});
