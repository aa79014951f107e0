import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';

const key = 'workspace-temp/u1/j1/0.png';
const expiresAt = new Date('2030-01-01T00:00:00.900Z');
const before = new Date('2029-12-31T23:00:00Z');

describe('createUrlSigner', () => {
  const signer = createUrlSigner('a test secret');

  it('signs with unix seconds (rounded down) and a base64url HMAC-SHA256', () => {
    const { expires, signature } = signer.sign(key, expiresAt);
    expect(expires).toBe(Date.UTC(2030, 0, 1) / 1000);
    // 32 bytes of base64url without padding.
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is deterministic and depends on every input', () => {
    const a = signer.sign(key, expiresAt).signature;
    expect(signer.sign(key, expiresAt).signature).toBe(a);
    expect(signer.sign('workspace-temp/u1/j1/1.png', expiresAt).signature).not.toBe(a);
    expect(signer.sign(key, new Date(expiresAt.getTime() + 1000)).signature).not.toBe(a);
    expect(signer.sign(key, expiresAt, 'x.png').signature).not.toBe(a);
    expect(createUrlSigner('another secret').sign(key, expiresAt).signature).not.toBe(a);
  });

  it('treats a string secret as its UTF-8 bytes', () => {
    const fromBuffer = createUrlSigner(Buffer.from('a test secret', 'utf8'));
    expect(fromBuffer.sign(key, expiresAt)).toEqual(signer.sign(key, expiresAt));
  });

  it('is not affected by later changes to the secret buffer', () => {
    const secret = Buffer.from('mutable secret');
    const own = createUrlSigner(secret);
    const { expires, signature } = own.sign(key, expiresAt);
    secret.fill(0);
    expect(own.verify(key, expires, signature, before)).toBe(true);
  });

  it('verifies its own signatures, with expires as number or string', () => {
    const { expires, signature } = signer.sign(key, expiresAt);
    expect(signer.verify(key, expires, signature, before)).toBe(true);
    expect(signer.verify(key, String(expires), signature, before)).toBe(true);
  });

  it('is valid up to the expiry second and not after', () => {
    const { expires, signature } = signer.sign(key, expiresAt);
    expect(signer.verify(key, expires, signature, new Date(expires * 1000))).toBe(true);
    expect(signer.verify(key, expires, signature, new Date(expires * 1000 + 1))).toBe(false);
    expect(signer.verify(key, expires, signature, new Date('2031-01-01T00:00:00Z'))).toBe(false);
  });

  it('defaults `now` to the current time', () => {
    const past = signer.sign(key, new Date(Date.now() - 5000));
    expect(signer.verify(key, past.expires, past.signature)).toBe(false);
    const future = signer.sign(key, new Date(Date.now() + 60_000));
    expect(signer.verify(key, future.expires, future.signature)).toBe(true);
  });

  it('rejects any tampering with key, expires, signature or download name', () => {
    const { expires, signature } = signer.sign(key, expiresAt, 'cat.png');
    expect(signer.verify(key, expires, signature, before, 'cat.png')).toBe(true);

    expect(signer.verify('workspace-temp/u1/j1/1.png', expires, signature, before, 'cat.png')).toBe(false);
    expect(signer.verify(key, expires + 1, signature, before, 'cat.png')).toBe(false);
    expect(signer.verify(key, expires - 1, signature, before, 'cat.png')).toBe(false);
    const last = signature.at(-1) === 'A' ? 'B' : 'A';
    expect(signer.verify(key, expires, signature.slice(0, -1) + last, before, 'cat.png')).toBe(false);
    expect(signer.verify(key, expires, signature, before, 'dog.png')).toBe(false);
    expect(signer.verify(key, expires, signature, before)).toBe(false);
  });

  it('treats an empty download name like none, as a query string cannot tell them apart', () => {
    const { expires, signature } = signer.sign(key, expiresAt, '');
    expect(signer.verify(key, expires, signature, before)).toBe(true);
  });

  it('returns false, never throws, for malformed input', () => {
    const { expires, signature } = signer.sign(key, expiresAt);
    for (const badSignature of ['', 'short', `${signature}A`, `${signature}==`, signature.replace(/./g, 'é')]) {
      expect(signer.verify(key, expires, badSignature, before)).toBe(false);
    }
    for (const badExpires of ['', 'soon', `${expires}.0`, ` ${expires}`, `+${expires}`, '1e12', '-1', Number.NaN, 1.5, -1]) {
      expect(signer.verify(key, badExpires, signature, before)).toBe(false);
    }
    expect(signer.verify(key, expires, undefined as unknown as string, before)).toBe(false);
  });

  it('accepts one spelling of expires only: leading zeros are refused', () => {
    const { expires, signature } = signer.sign(key, expiresAt);
    expect(signer.verify(key, String(expires), signature, before)).toBe(true);
    for (const padded of [`0${expires}`, `00${expires}`, `${'0'.repeat(15 - String(expires).length)}${expires}`]) {
      expect(signer.verify(key, padded, signature, before), padded).toBe(false);
    }
    // Zero itself has one spelling, and it is long expired.
    const zero = signer.sign(key, new Date(0));
    expect(signer.verify(key, '0', zero.signature, new Date(0))).toBe(true);
    expect(signer.verify(key, '00', zero.signature, new Date(0))).toBe(false);
  });

  it('refuses an empty secret and an invalid expiry date', () => {
    expect(() => createUrlSigner('')).toThrow(AtelierError);
    expect(() => createUrlSigner(Buffer.alloc(0))).toThrow(AtelierError);
    expect(() => signer.sign(key, new Date(Number.NaN))).toThrow(AtelierError);
  });
});
