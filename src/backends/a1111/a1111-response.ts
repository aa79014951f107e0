import { RetryableError } from '../../errors/signals.js';
import { seedForImage, type JobSpec } from '../../jobs/job-spec.js';
import type { GeneratedImage } from '../backend.js';
import { parseJsonBody } from './http-request.js';
import { decodeBase64Image, toPng } from './output-image.js';

/** The parts of `info` (`Processed.js()`, processing.py) the adapter reads. */
export interface A1111Info {
  readonly seed?: number;
  readonly all_seeds?: readonly number[];
  readonly infotexts?: readonly string[];
  /** 1 when a grid leads `images`. */
  readonly index_of_first_image?: number;
}

const isSeed = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** `info` is a JSON *string* in A1111 and Forge; some forks send the object itself. */
function parseInfo(info: unknown): A1111Info | undefined {
  const parsed = typeof info === 'string' ? parseJsonBody(Buffer.from(info)) : info;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as A1111Info) : undefined;
}

/**
 * Where the job's images start: `index_of_first_image` when A1111 reports it; otherwise one
 * extra leading image is taken for a grid. Extra trailing images (ControlNet's detect maps)
 * are never outputs of the job.
 */
function firstImageIndex(info: A1111Info, count: number, wanted: number): number {
  const reported = info.index_of_first_image;
  if (isSeed(reported) && reported + wanted <= count) return reported;
  return count === wanted + 1 ? 1 : 0;
}

/**
 * Reads a txt2img/img2img answer `{images: [base64…], info: "<JSON>"}` into the job's images,
 * each with the seed A1111 really used (`all_seeds`). A body that is not that shape is a
 * broken or proxied answer, not a bad request, so it is retryable.
 *
 * @throws RetryableError (`backend_failed`) for bad JSON, too few images, or bytes that are no image.
 */
export async function readA1111Images(where: string, body: Buffer, spec: JobSpec): Promise<GeneratedImage[]> {
  const malformed = (why: string, cause?: unknown) => new RetryableError(`${where} sent a malformed answer: ${why}`, 'backend_failed', { cause });
  const parsed = parseJsonBody(body) as { images?: unknown; info?: unknown } | undefined;
  if (parsed === null || typeof parsed !== 'object') throw malformed('the body is not JSON');
  const images = parsed.images;
  if (!Array.isArray(images) || !images.every((image) => typeof image === 'string')) throw malformed('no `images` list');
  const info = parseInfo(parsed.info);
  if (info === undefined) throw malformed('`info` is not a JSON object');
  if (images.length < spec.numImages) throw malformed(`${images.length} images for a batch of ${spec.numImages}`);

  const start = firstImageIndex(info, images.length, spec.numImages);
  return Promise.all(
    Array.from({ length: spec.numImages }, async (_, index) => {
      const reported = info.all_seeds?.[index];
      const seed = isSeed(reported) ? reported : isSeed(info.seed) ? info.seed + index : seedForImage(spec, index);
      try {
        const png = await toPng(decodeBase64Image(images[start + index] as string));
        return { kind: 'image', index, seed, width: png.width, height: png.height, data: png.data } satisfies GeneratedImage;
      } catch (cause) {
        throw malformed(`image ${index}: ${(cause as Error).message}`, cause);
      }
    }),
  );
}
