import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AtelierError } from '../errors/atelier-error.js';
import type { JobSpec } from '../jobs/job-spec.js';
import { storageKeys } from '../storage/keys.js';

/** What a job's attempt must deliver: `count` PNG images, or one MP4 video. */
export interface ExpectedOutputs {
  readonly type: 'image' | 'video';
  readonly count: number;
  readonly ext: 'png' | 'mp4';
  readonly contentType: 'image/png' | 'video/mp4';
}

const VIDEO_MODES = new Set(['t2v', 'i2v', 'ti2v']);

export function expectedOutputs(spec: Pick<JobSpec, 'mode' | 'numImages' | 'numFrames'>): ExpectedOutputs {
  return VIDEO_MODES.has(spec.mode) || spec.numFrames !== undefined
    ? { type: 'video', count: 1, ext: 'mp4', contentType: 'video/mp4' }
    : { type: 'image', count: spec.numImages, ext: 'png', contentType: 'image/png' };
}

/** Where a worker's upload waits until its completion callback is processed (storage/keys.ts). */
export const stagingKey = storageKeys.workerUpload;

/** The index a staging key names, if it is one of this job's attempt; undefined otherwise. */
export function stagingIndex(key: string, jobId: string, attempt: number, ext: 'png' | 'mp4'): number | undefined {
  const prefix = storageKeys.workerUploadPrefix(jobId, attempt);
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d{1,3})\.([a-z0-9]+)$/.exec(key.slice(prefix.length));
  return match && match[2] === ext ? Number(match[1]) : undefined;
}

/** Every staging key a job may have, for clean-up: all attempts up to `attempts`. */
export function allStagingKeys(jobId: string, attempts: number, expected: ExpectedOutputs): string[] {
  const keys: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    for (let index = 0; index < expected.count; index++) keys.push(stagingKey(jobId, attempt, index, expected.ext));
  }
  return keys;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the bytes start like a PNG (signature) or an MP4 (`ftyp` box at offset 4). */
export function hasMagic(head: Buffer, ext: 'png' | 'mp4'): boolean {
  if (ext === 'png') return head.length >= 8 && head.subarray(0, 8).equals(PNG_MAGIC);
  return head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp';
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } | undefined {
  if (png.length < 24 || !hasMagic(png, 'png') || png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A pass-through that checks an upload while it streams: the magic bytes of the expected
 * format in its first 12 bytes, and at most `maxBytes` in all. It also measures the bytes and
 * their sha256. A failure errors the stream with an AtelierError (kept in `failure`).
 */
export class UploadCheck extends Transform {
  bytes = 0;
  failure: AtelierError | undefined;
  private head: Buffer[] = [];
  private headLength = 0;
  private checked = false;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly ext: 'png' | 'mp4',
    private readonly maxBytes: number,
  ) {
    super();
  }

  get sha256(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return this.fail(new AtelierError('body_too_large', `Expected at most ${this.maxBytes} bytes for an upload`), callback);
    this.hash.update(chunk);
    if (this.checked) return callback(null, chunk);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < 12) return callback();
    const head = Buffer.concat(this.head);
    this.head = [];
    if (!hasMagic(head, this.ext)) return this.fail(this.badFormat(), callback);
    this.checked = true;
    callback(null, head);
  }

  override _flush(callback: TransformCallback): void {
    if (this.checked) return callback();
    this.fail(this.bytes === 0 ? new AtelierError('invalid_image', 'Expected the file bytes as the request body, but it was empty') : this.badFormat(), callback);
  }

  private badFormat(): AtelierError {
    return new AtelierError('invalid_image', this.ext === 'png' ? 'Expected a PNG image (the job produces images)' : 'Expected an MP4 video (the job produces a video)');
  }

  private fail(error: AtelierError, callback: TransformCallback): void {
    this.failure = error;
    callback(error);
  }
}
