import { Readable } from 'node:stream';
// Type-only: erased at compile time, so importing this module never loads the AWS SDK.
import type { S3Client } from '@aws-sdk/client-s3';
import { AtelierError, describeValue } from '../../errors/atelier-error.js';
import { contentTypeForKey, isValidKey } from '../keys.js';
import { contentDisposition } from './content-disposition.js';
import type { GetOptions, ObjectInfo, PutOptions, SignedUrlOptions, Storage } from '../storage.js';

/** Options of {@link createS3Storage}; only the subset of the S3 client Atelier uses. */
export interface S3StorageOptions {
  readonly bucket: string;
  /** Default `us-east-1`; S3-compatible servers usually ignore it but SigV4 needs one. */
  readonly region?: string;
  /** For S3-compatible servers (MinIO, R2, Ceph…), e.g. `http://127.0.0.1:9000`. */
  readonly endpoint?: string;
  /** `bucket` in the path instead of the host name; what most S3-compatible servers want. */
  readonly forcePathStyle?: boolean;
  /** Default: the AWS SDK's provider chain (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Stores key `k` as object `{prefix}/k`, so several deployments can share a bucket. */
  readonly prefix?: string;
}

/** An S3 {@link Storage} that can also release its HTTP connections at shutdown. */
export interface S3Storage extends Storage {
  close(): void;
}

// S3's minimum part size. A stream put buffers at most (QUEUE_SIZE + 1) parts: ~25 MiB.
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 4;
// SigV4 presigned URLs cannot live longer than seven days.
const MAX_URL_SECONDS = 7 * 24 * 60 * 60;

/**
 * A {@link Storage} on S3 or any S3-compatible server. The AWS SDK is imported here, on first
 * use, so embedded mode (disk storage) never loads it — hence the factory is async.
 *
 * Atomicity comes from S3 itself: a PutObject or a multipart upload becomes visible only when
 * complete. Streams go through a multipart upload with bounded buffering; if the source fails,
 * the upload is aborted and no object appears.
 *
 * @example
 * const storage = await createS3Storage({ bucket: 'atelier-media', region: 'eu-west-1', prefix: 'prod' });
 * await storage.put(storageKeys.workspaceOriginal('u1', 'j1', 0), png);
 */
export async function createS3Storage(options: S3StorageOptions): Promise<S3Storage> {
  const prefix = normalisePrefix(options.prefix);
  const [s3, { Upload }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/lib-storage'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  const client: S3Client = new s3.S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // The SDK's default (WHEN_SUPPORTED) sends streamed bodies with aws-chunked trailing
    // checksums, which many S3-compatible servers reject or store verbatim. Checksums are
    // still sent where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;

  function objectKey(key: string): string {
    if (typeof key !== 'string' || !isValidKey(key)) {
      throw new AtelierError('invalid_parameter', `Expected a storage key of safe segments but received ${describeValue(key)}`, {
        field: 'key',
      });
    }
    return prefix === undefined ? key : `${prefix}/${key}`;
  }

  async function stat(key: string): Promise<ObjectInfo | undefined> {
    const Key = objectKey(key);
    try {
      const head = await client.send(new s3.HeadObjectCommand({ Bucket, Key }));
      return {
        key,
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? contentTypeForKey(key),
        modifiedAt: head.LastModified ?? new Date(),
      };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  async function put(key: string, body: Buffer | Readable, putOptions?: PutOptions): Promise<ObjectInfo> {
    const Key = objectKey(key);
    const contentType = putOptions?.contentType ?? contentTypeForKey(key);
    if (Buffer.isBuffer(body)) {
      await client.send(new s3.PutObjectCommand({ Bucket, Key, Body: body, ContentType: contentType }));
      return { key, size: body.length, contentType, modifiedAt: new Date() };
    }
    const source = { bytes: 0, error: undefined as unknown };
    const counted = Readable.from(watchSource(body, source));
    // Upload sends one PutObject when the stream fits in one part, a multipart upload otherwise;
    // on any failure (source stream included) it aborts the multipart upload and rethrows.
    const upload = new Upload({ client, params: { Bucket, Key, Body: counted, ContentType: contentType }, partSize: PART_SIZE, queueSize: QUEUE_SIZE });
    try {
      await upload.done();
    } catch (error) {
      // If the abort itself fails, Upload throws the abort's error; the caller needs the cause.
      // (Parts of an upload whose abort failed are reclaimed by a bucket lifecycle rule.)
      throw source.error ?? error;
    } finally {
      // A network failure leaves the source half read; release it like the disk adapter does.
      counted.destroy();
      body.destroy();
    }
    return { key, size: source.bytes, contentType, modifiedAt: new Date() };
  }

  async function get(key: string, options?: GetOptions): Promise<Readable> {
    const Key = objectKey(key);
    const range = options?.range;
    try {
      const { Body } = await client.send(new s3.GetObjectCommand({ Bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      // In Node the SDK returns the HTTP response itself (an IncomingMessage): a real stream.
      if (!(Body instanceof Readable)) throw new AtelierError('storage_failed', `S3 returned no stream for ${key}`);
      return Body;
    } catch (error) {
      if (isMissingObject(error)) throw notFound(key);
      throw error;
    }
  }

  return {
    put,
    get,
    stat,
    async delete(key) {
      // S3 answers 204 for a missing key, which makes delete idempotent for free.
      await client.send(new s3.DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },
    async *list(keyPrefix: string) {
      const Prefix = prefix === undefined ? keyPrefix : `${prefix}/${keyPrefix}`;
      const strip = prefix === undefined ? 0 : prefix.length + 1;
      // ListObjects (v1) paged by Marker, the last key seen (S3 lists in key order): v2's
      // continuation tokens are what some S3-compatible servers cannot make (s3rver's need DES,
      // which Node 20's OpenSSL no longer has), and v1 is served by every S3 implementation.
      let Marker: string | undefined;
      for (;;) {
        const page = await client.send(new s3.ListObjectsCommand({ Bucket, Prefix, ...(Marker ? { Marker } : {}) }));
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          const key = object.Key.slice(strip);
          yield { key, size: object.Size ?? 0, contentType: contentTypeForKey(key), modifiedAt: object.LastModified ?? new Date(0) };
        }
        const last = page.Contents?.at(-1)?.Key;
        if (!page.IsTruncated || last === undefined) return;
        Marker = last;
      }
    },
    async copy(fromKey, toKey) {
      const from = objectKey(fromKey);
      const Key = objectKey(toKey);
      try {
        // Server-side: the bytes never pass through Atelier. Content type is copied along.
        await client.send(new s3.CopyObjectCommand({ Bucket, Key, CopySource: `${encodeURIComponent(Bucket)}/${from}` }));
      } catch (error) {
        if (isMissingObject(error)) throw notFound(fromKey);
        throw error;
      }
      const info = await stat(toKey);
      if (info === undefined) throw new AtelierError('storage_failed', `The object ${toKey} vanished right after it was copied`);
      return info;
    },
    async signedUrl(key, signedOptions: SignedUrlOptions) {
      const Key = objectKey(key);
      const expiresIn = validLifetime(signedOptions.expiresInSeconds);
      const { downloadName } = signedOptions;
      const command = new s3.GetObjectCommand({
        Bucket,
        Key,
        ...(downloadName ? { ResponseContentDisposition: contentDisposition(downloadName) } : {}),
      });
      return getSignedUrl(client, command, { expiresIn });
    },
    close: () => client.destroy(),
  };
}

/** Yields the stream's bytes unchanged, counting them and remembering the stream's own error. */
async function* watchSource(stream: Readable, seen: { bytes: number; error: unknown }): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      // A stream with setEncoding() yields strings; put them back as the same UTF-8 bytes.
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      seen.bytes += bytes.length;
      yield bytes;
    }
  } catch (error) {
    seen.error = error;
    throw error;
  }
}

function normalisePrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined) return undefined;
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return undefined;
  if (!isValidKey(trimmed)) {
    throw new AtelierError('config_invalid', `Expected an S3 prefix of safe path segments but received ${describeValue(prefix)}`, { field: 'prefix' });
  }
  return trimmed;
}

function validLifetime(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_URL_SECONDS) {
    throw new AtelierError('invalid_parameter', `Expected 1–${MAX_URL_SECONDS} seconds but received ${describeValue(seconds)}`, {
      field: 'expiresInSeconds',
    });
  }
  // Whole seconds, rounded down like the disk signer: a URL may die early, never late.
  return Math.max(1, Math.floor(seconds));
}

/** NoSuchKey from GetObject/CopyObject, a bare 404 from HeadObject — but not a missing bucket. */
function isMissingObject(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

function notFound(key: string): AtelierError {
  return new AtelierError('not_found', `No stored object at ${key}`);
}
