import { join, resolve } from 'node:path';
import { createDiskStorage } from '../storage/disk/disk-storage.js';
import type { Storage } from '../storage/storage.js';
import type { UrlSigner } from '../storage/url-signer.js';
import type { Config } from './config-schema.js';

export interface StorageHandle {
  readonly storage: Storage;
  /** Set when this server serves the media itself (disk); S3 signs its own URLs. */
  readonly servesMedia: boolean;
  close(): void;
}

/** Disk by default; `STORAGE_URL=s3://bucket` selects S3, whose SDK is only loaded then. */
export async function createStorage(config: Config, signer: UrlSigner, hooks: { readonly onFsync?: () => void } = {}): Promise<StorageHandle> {
  if (config.storageUrl) {
    const [{ createS3Storage }, { parseStorageUrl }] = await Promise.all([import('../storage/s3/s3-storage.js'), import('../storage/s3/parse-storage-url.js')]);
    const { bucket, prefix } = parseStorageUrl(config.storageUrl);
    const { accessKeyId, secretAccessKey } = config.s3;
    const storage = await createS3Storage({
      bucket,
      ...(prefix ? { prefix } : {}),
      region: config.s3.region,
      ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
      forcePathStyle: config.s3.forcePathStyle,
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    });
    return { storage, servesMedia: false, close: () => storage.close() };
  }
  const root = resolve(config.mediaDir ?? join(resolve(config.dataDir), 'media'));
  return { storage: createDiskStorage({ root, signer, ...(hooks.onFsync ? { onFsync: hooks.onFsync } : {}) }), servesMedia: true, close: () => {} };
}
