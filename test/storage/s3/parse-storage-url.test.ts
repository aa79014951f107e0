import { describe, expect, it } from 'vitest';
import { parseStorageUrl } from '../../../src/storage/s3/parse-storage-url.js';

describe('parseStorageUrl', () => {
  it('reads the bucket and an optional prefix', () => {
    expect(parseStorageUrl('s3://atelier-media')).toEqual({ bucket: 'atelier-media', prefix: undefined });
    expect(parseStorageUrl('s3://atelier-media/')).toEqual({ bucket: 'atelier-media', prefix: undefined });
    expect(parseStorageUrl('s3://atelier-media/prod')).toEqual({ bucket: 'atelier-media', prefix: 'prod' });
    expect(parseStorageUrl('s3://my.bucket-1/prod/v1/')).toEqual({ bucket: 'my.bucket-1', prefix: 'prod/v1' });
  });

  it.each([
    ['http://atelier-media/prod', 'not an s3:// URL'],
    ['s3://', 'not an s3:// URL'],
    ['s3://Upper-Case', 'not a valid bucket name'],
    ['s3://ab', 'not a valid bucket name'],
    ['s3://a..b', 'not a valid bucket name'],
    ['s3://bucket/../escape', 'must be safe path segments'],
    ['s3://bucket/a//b', 'must be safe path segments'],
    ['s3://bucket/prefix?x=1', 'not an s3:// URL'],
  ])('refuses %j as config_invalid naming STORAGE_URL', (url, why) => {
    expect(() => parseStorageUrl(url)).toThrow(expect.objectContaining({ code: 'config_invalid', field: 'STORAGE_URL', message: expect.stringContaining(why) }));
  });
});
