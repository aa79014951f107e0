import type { GeneratedImage, GeneratedVideo } from '../backends/backend.js';
import { UnrecoverableError } from '../errors/signals.js';
import { seedForImage, type JobSpec } from '../jobs/job-spec.js';
import { probeVideo } from '../media/video/probe-video.js';
import { pngSize } from './staging.js';

/**
 * A worker's files as backend outputs, whichever way they arrived (staged, or in a multipart
 * completion), so the attempt pipeline stores them exactly as the runner's own. Errors here
 * are the attempt's failure (a file that passed the magic-byte check but does not decode),
 * not a refusal of the request.
 */

/** The seed a worker reported for an asset, when it is a usable one; else the job's seed for the index. */
export function assetSeed(spec: JobSpec, index: number, metadata: unknown): number {
  const reported = (metadata as { seed?: unknown } | null | undefined)?.seed;
  return typeof reported === 'number' && Number.isSafeInteger(reported) && reported >= 0 ? reported : seedForImage(spec, index);
}

export function imageOutput(index: number, seed: number, data: Buffer): GeneratedImage {
  const size = pngSize(data);
  if (!size) throw new UnrecoverableError(`Asset ${index} is not a PNG image`, 'invalid_image');
  return { kind: 'image', index, seed, width: size.width, height: size.height, data };
}

/** `file` is an MP4 in a work directory the caller removes. */
export async function videoOutput(index: number, seed: number, file: string): Promise<GeneratedVideo> {
  const probe = await probeVideo(file);
  return { kind: 'video', index, seed, width: probe.width, height: probe.height, fps: probe.fps, frameCount: probe.frame_count, file };
}
