import { AtelierError, describeValue } from '../../errors/atelier-error.js';
import { isValidKey } from '../keys.js';

/** Where `STORAGE_URL=s3://bucket[/prefix]` points. */
export interface S3Location {
  readonly bucket: string;
  /** Path inside the bucket, without leading or trailing slashes; undefined for the bucket root. */
  readonly prefix: string | undefined;
}

// S3's bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens, alphanumeric at both ends.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses an `s3://bucket[/prefix]` storage URL. Anything else is a `config_invalid` error
 * naming `STORAGE_URL`, so start-up refuses it with a clear message.
 *
 * @example parseStorageUrl('s3://atelier-media/prod/v1') // { bucket: 'atelier-media', prefix: 'prod/v1' }
 */
export function parseStorageUrl(url: string): S3Location {
  const match = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  const invalid = (why: string) =>
    new AtelierError('config_invalid', `Expected s3://bucket[/prefix] for STORAGE_URL but received ${describeValue(url)}: ${why}`, {
      field: 'STORAGE_URL',
    });
  if (match === null) throw invalid('not an s3:// URL');
  const bucket = match[1]!;
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw invalid(`'${bucket}' is not a valid bucket name`);
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  if (prefix === '') return { bucket, prefix: undefined };
  // The prefix becomes the first segments of every object key, so it obeys the same rules.
  if (!isValidKey(prefix)) throw invalid(`the prefix '${prefix}' must be safe path segments`);
  return { bucket, prefix };
}
