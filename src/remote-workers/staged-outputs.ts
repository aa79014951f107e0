import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import type { GeneratedOutput } from '../backends/backend.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Storage } from '../storage/storage.js';
import type { CallbackAsset } from '../api/schemas/worker-protocol.js';
import { stagingIndex, stagingKey, type ExpectedOutputs } from './staging.js';
import { assetSeed, imageOutput, videoOutput } from './worker-outputs.js';

/** One asset of a JSON callback and the staged upload it names. */
export interface StagedAsset {
  readonly index: number;
  readonly asset: CallbackAsset;
}

/**
 * The staged uploads a JSON callback names, in index order: one per expected output, each of
 * the job's type and naming a distinct staging key of this attempt (or its bare index).
 * Refusals are `invalid_parameter`; the lease is kept for a corrected callback.
 */
export function stagedAssets(jobId: string, attempt: number, expected: ExpectedOutputs, assets: readonly CallbackAsset[]): StagedAsset[] {
  if (assets.length !== expected.count) {
    throw new AtelierError('invalid_parameter', `Expected ${expected.count} asset${expected.count > 1 ? 's' : ''} (${expected.type}) in the callback but received ${assets.length}`, { field: 'assets' });
  }
  const seen = new Map<number, CallbackAsset>();
  for (const [i, asset] of assets.entries()) {
    if (asset.type !== expected.type) {
      throw new AtelierError('invalid_parameter', `Expected assets[${i}].type '${expected.type}' but received '${asset.type}'`, { field: `assets[${i}].type` });
    }
    const index = stagingIndex(asset.url, jobId, attempt, expected.ext) ?? (/^\d{1,3}$/.test(asset.url) ? Number(asset.url) : asset.index);
    if (index === undefined || !(index >= 0 && index < expected.count) || seen.has(index)) {
      throw new AtelierError(
        'invalid_parameter',
        `Expected assets[${i}].url to be the key an upload of this attempt returned (${stagingKey(jobId, attempt, 0, expected.ext)} …) but received '${asset.url.slice(0, 120)}'`,
        { field: `assets[${i}].url` },
      );
    }
    seen.set(index, asset);
  }
  return [...seen.entries()].sort(([a], [b]) => a - b).map(([index, asset]) => ({ index, asset }));
}

/** The bytes of a staged upload this node stored and still holds (held-uploads.ts), by key. */
export type HeldBytes = (key: string) => Buffer | undefined;

/** Refuses a callback naming an index that was never uploaded in this attempt (an upload `held` knows of was). */
export async function requireStaged(storage: Storage, jobId: string, attempt: number, expected: ExpectedOutputs, assets: readonly StagedAsset[], held: HeldBytes = () => undefined): Promise<void> {
  for (const { index } of assets) {
    const key = stagingKey(jobId, attempt, index, expected.ext);
    if (!held(key) && !(await storage.stat(key))) {
      throw new AtelierError('invalid_parameter', `Asset ${index} was never uploaded for this attempt: PUT it to its upload URL first`, { field: 'assets' });
    }
  }
}

/**
 * Reads the staged uploads back as backend outputs (a video into a file under `workDir()`);
 * images this node still holds (`held`) are taken from memory instead.
 */
export async function loadStaged(
  storage: Storage,
  spec: JobSpec,
  jobId: string,
  attempt: number,
  expected: ExpectedOutputs,
  assets: readonly StagedAsset[],
  workDir: () => Promise<string>,
  held: HeldBytes = () => undefined,
): Promise<GeneratedOutput[]> {
  const outputs: GeneratedOutput[] = [];
  for (const { index, asset } of assets) {
    const key = stagingKey(jobId, attempt, index, expected.ext);
    const seed = assetSeed(spec, index, asset.metadata);
    if (expected.type === 'image') {
      const bytes = held(key);
      if (bytes) {
        outputs.push(imageOutput(index, seed, bytes));
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
      outputs.push(imageOutput(index, seed, Buffer.concat(chunks)));
    } else {
      const file = join(await workDir(), `${index}.mp4`);
      await pipeStreams(await storage.get(key), createWriteStream(file));
      outputs.push(await videoOutput(index, seed, file));
    }
  }
  return outputs;
}
