import { describe, expect, it } from 'vitest';
import { preferredWait } from '../../../src/api/routes/prefer-wait.js';
import { AtelierError } from '../../../src/errors/atelier-error.js';

describe('preferredWait (RFC 7240 Prefer: wait)', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['return=minimal', undefined],
    ['respond-async', undefined],
    ['wait', 60],
    ['WAIT', 60],
    ['wait=1', 1],
    ['wait=60', 60],
    ['wait = 15', 15],
    ['wait="20"', 20],
    ['respond-async, wait=10', 10],
    ['return=representation; foo="a,b", wait=5', 5],
    ['wait=7; extra=1', 7],
    ['wait=3, wait=9', 3],
    [['respond-async', 'wait=12'], 12],
  ] as const)('%j → %j', (header, seconds) => {
    expect(preferredWait(header as string | string[] | undefined)).toBe(seconds);
  });

  it.each(['wait=0', 'wait=61', 'wait=600', 'wait=-1', 'wait=1.5', 'wait=abc', 'wait=', 'wait=""'])('refuses %s as invalid_parameter naming Prefer', (header) => {
    let error: unknown;
    try {
      preferredWait(header);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AtelierError);
    expect(error).toMatchObject({ code: 'invalid_parameter', field: 'Prefer' });
    expect((error as Error).message).toMatch(/^Expected integer 1–60 for Prefer wait but received /);
  });
});
