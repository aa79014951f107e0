import { createHmac, timingSafeEqual } from 'node:crypto';
import { AtelierError } from '../errors/atelier-error.js';

/** What a signed URL carries besides the key: when it stops working and the proof. */
export interface UrlSignature {
  /** Unix time in seconds after which the URL is refused. */
  readonly expires: number;
  /** HMAC-SHA256 of the canonical string, base64url without padding. */
  readonly signature: string;
}

/**
 * Signs and verifies media URLs with a server secret, so media can be fetched without an API
 * token (e.g. from an `<img src>`) but only for the key, expiry and download name we issued.
 */
export interface UrlSigner {
  sign(key: string, expiresAt: Date, downloadName?: string): UrlSignature;
  /**
   * True only for an unexpired URL whose key, expiry and download name are exactly the signed
   * ones. Never throws on malformed input: a bad URL is simply not valid.
   *
   * `downloadName` must be the value from the URL's query (or absent): it is signed so nobody
   * can rewrite the `Content-Disposition` file name of a URL they were given.
   */
  verify(key: string, expires: number | string, signature: string, now?: Date, downloadName?: string): boolean;
}

// Bumping the version invalidates every outstanding URL; it also keeps these MACs from ever
// colliding with another use of the same secret.
const DOMAIN = 'atelier-media-url-v1';

/**
 * JSON of a fixed-shape array: unambiguous for any key or file name (no separator to smuggle),
 * and an empty download name is treated the same as none, as the query string cannot tell them apart.
 */
function canonical(key: string, expires: number, downloadName: string | undefined): string {
  return JSON.stringify([DOMAIN, key, expires, downloadName || null]);
}

function parseExpires(expires: number | string): number | undefined {
  if (typeof expires === 'number') return Number.isSafeInteger(expires) && expires >= 0 ? expires : undefined;
  // One spelling per value: digits only and no leading zero, so `Number('1e3')`, `' 12 '` or
  // `'012'` cannot verify as another spelling of a signed expiry.
  if (!/^(?:0|[1-9]\d{0,14})$/.test(expires)) return undefined;
  return Number(expires);
}

/**
 * Creates a signer bound to `secret` (raw bytes or a string, used as UTF-8).
 *
 * @example
 * const signer = createUrlSigner(process.env.ATELIER_URL_SECRET!);
 * const { expires, signature } = signer.sign('workspace-temp/u1/j1/0.png', new Date(Date.now() + 3600_000));
 * signer.verify('workspace-temp/u1/j1/0.png', expires, signature); // true
 */
export function createUrlSigner(secret: Buffer | string): UrlSigner {
  // Copy so a caller reusing or zeroing its buffer cannot change our key afterwards.
  const keyBytes = Buffer.from(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  if (keyBytes.length === 0) throw new AtelierError('config_invalid', 'The URL signing secret must not be empty');

  const mac = (key: string, expires: number, downloadName: string | undefined): string =>
    createHmac('sha256', keyBytes).update(canonical(key, expires, downloadName), 'utf8').digest('base64url');

  return {
    sign(key, expiresAt, downloadName) {
      const ms = expiresAt.getTime();
      if (!Number.isFinite(ms)) throw new AtelierError('invalid_parameter', 'The expiry of a signed URL must be a valid date');
      // Round down: a URL may die up to a second early, never late.
      const expires = Math.floor(ms / 1000);
      return { expires, signature: mac(key, expires, downloadName) };
    },

    verify(key, expires, signature, now = new Date(), downloadName) {
      const expiresSeconds = parseExpires(expires);
      if (expiresSeconds === undefined || typeof signature !== 'string') return false;
      if (now.getTime() > expiresSeconds * 1000) return false;
      // Compare the base64url text, not decoded bytes: Buffer's lenient decoder would accept
      // several spellings of the same bytes. timingSafeEqual throws on unequal lengths, and
      // the length of a valid MAC is public anyway, so checking it first leaks nothing.
      const expected = Buffer.from(mac(key, expiresSeconds, downloadName), 'utf8');
      const given = Buffer.from(signature, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
