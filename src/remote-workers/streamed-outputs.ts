import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtelierError } from '../errors/atelier-error.js';
import { assetPartName, type MultipartResult } from '../api/schemas/worker-protocol.js';
import { UploadCheck, type ExpectedOutputs } from './staging.js';

/** A file part of a multipart completion, as the route hands it over: its field name and bytes. */
export interface FilePart {
  readonly name: string;
  readonly stream: Readable;
}

/** One asset's bytes as received: an image in memory, or a video in a file of the work directory. */
export type ReceivedAsset = { readonly index: number; readonly data: Buffer; readonly file?: undefined } | { readonly index: number; readonly file: string; readonly data?: undefined };

type MultipartAsset = NonNullable<MultipartResult['assets']>[number];

const PART_NAME = /^asset_(\d{1,3})$/;

/**
 * The asset metadata of a multipart result by index, checked before any byte is read. Assets
 * are optional (the parts carry the bytes); when given there is one per output, of the job's
 * type, each naming a distinct index (`index`, else `url` as `asset_{i}` or `i`, else its
 * position).
 */
export function multipartMetadata(expected: ExpectedOutputs, assets: readonly MultipartAsset[] | undefined): Map<number, unknown> {
  const metadata = new Map<number, unknown>();
  if (assets === undefined || assets.length === 0) return metadata;
  if (assets.length !== expected.count) {
    throw new AtelierError('invalid_parameter', `Expected ${expected.count} asset${expected.count > 1 ? 's' : ''} (${expected.type}) in the result, or none, but received ${assets.length}`, { field: 'assets' });
  }
  for (const [i, asset] of assets.entries()) {
    if (asset.type !== expected.type) {
      throw new AtelierError('invalid_parameter', `Expected assets[${i}].type '${expected.type}' but received '${asset.type}'`, { field: `assets[${i}].type` });
    }
    const named = asset.url === undefined ? undefined : /^\d{1,3}$/.test(asset.url) ? Number(asset.url) : partIndex(asset.url);
    if (asset.url !== undefined && named === undefined) {
      throw new AtelierError('invalid_parameter', `Expected assets[${i}].url to name its file part (${assetPartName(0)} …) or be omitted, but received '${asset.url.slice(0, 120)}'`, {
        field: `assets[${i}].url`,
      });
    }
    const index = asset.index ?? named ?? i;
    if (!(index < expected.count) || metadata.has(index) || (named !== undefined && named !== index)) {
      throw new AtelierError('invalid_parameter', `Expected assets[${i}] to describe one of the parts ${assetPartName(0)}…${assetPartName(expected.count - 1)}, each once`, { field: `assets[${i}]` });
    }
    metadata.set(index, asset.metadata);
  }
  return metadata;
}

function partIndex(name: string): number | undefined {
  const match = PART_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Reads the `asset_{index}` parts of a multipart completion, each checked while it streams as
 * a staged upload is (UploadCheck: magic bytes, `maxBytes`): images into memory, a video into
 * a file under `workDir()`. Exactly one part per expected output; anything else is refused
 * (`invalid_parameter`, `invalid_image`, `body_too_large`, `invalid_body`) before the job is
 * given anything, and the lease is kept for a corrected request.
 */
export async function receiveParts(parts: AsyncIterable<FilePart>, expected: ExpectedOutputs, maxBytes: number, workDir: () => Promise<string>): Promise<ReceivedAsset[]> {
  const received = new Map<number, ReceivedAsset>();
  const names = `${assetPartName(0)}${expected.count > 1 ? `…${assetPartName(expected.count - 1)}` : ''}`;
  for await (const part of parts) {
    const index = partIndex(part.name);
    if (index === undefined || index >= expected.count) {
      part.stream.resume();
      const what = index === undefined ? `a part named '${part.name.slice(0, 60)}'` : `a part for asset ${index}`;
      throw new AtelierError('invalid_parameter', `Expected the file parts ${names} (the job makes ${expected.count} ${expected.type}${expected.count > 1 ? 's' : ''}) but received ${what}`, {
        field: part.name.slice(0, 60),
      });
    }
    if (received.has(index)) {
      part.stream.resume();
      throw new AtelierError('invalid_parameter', `Expected one part ${part.name} but received it twice`, { field: part.name });
    }
    received.set(index, await receivePart(part, index, expected, maxBytes, workDir));
  }
  const missing = Array.from({ length: expected.count }, (_, i) => i).filter((i) => !received.has(i));
  if (missing.length > 0) {
    throw new AtelierError('invalid_parameter', `Expected the file parts ${names} but ${missing.map(assetPartName).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`, { field: assetPartName(missing[0]!) });
  }
  return [...received.values()].sort((a, b) => a.index - b.index);
}

async function receivePart(part: FilePart, index: number, expected: ExpectedOutputs, maxBytes: number, workDir: () => Promise<string>): Promise<ReceivedAsset> {
  const check = new UploadCheck(expected.ext, maxBytes);
  try {
    if (expected.type === 'image') {
      const chunks: Buffer[] = [];
      await pipeline(part.stream, check, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      });
      return { index, data: Buffer.concat(chunks) };
    }
    const file = join(await workDir(), `${index}.${expected.ext}`);
    await pipeline(part.stream, check, createWriteStream(file));
    return { index, file };
  } catch (error) {
    if (check.failure) throw new AtelierError(check.failure.code, `${part.name}: ${check.failure.message}`, { field: part.name });
    // The multipart body broke off or was malformed; a failed disk write stays a server error.
    if (part.stream.errored) throw new AtelierError('invalid_body', `The multipart body ended inside ${part.name} or is malformed`, { field: part.name, cause: error });
    throw error;
  }
}
