import { RetryableError } from '../../errors/signals.js';
import { parseJsonBody } from '../a1111/http-request.js';
import { decodeBase64Image, toPng, type PngImage } from '../a1111/output-image.js';

/** `ImagesResponse` (PROTOCOLS §3), the parts read here. */
interface ImagesResponse {
  data?: unknown;
}

interface ImageItem {
  b64_json?: unknown;
  url?: unknown;
}

/**
 * Reads `{created, data: [{b64_json | url}]}` into PNGs. `url` items (DALL·E without
 * `response_format`, or servers that ignore it) are fetched with `download`. A body that is
 * not this shape, too few items, or bytes that are no image are a broken answer: retryable.
 *
 * @throws RetryableError (`backend_failed`) for a malformed answer.
 */
export async function readOpenAIImages(where: string, body: Buffer, expected: number, download: (url: string) => Promise<Buffer>): Promise<PngImage[]> {
  const malformed = (why: string, cause?: unknown) => new RetryableError(`${where} sent a malformed answer: ${why}`, 'backend_failed', { cause });
  const parsed = parseJsonBody(body) as ImagesResponse | undefined;
  if (parsed === null || typeof parsed !== 'object') throw malformed('the body is not JSON');
  if (!Array.isArray(parsed.data)) throw malformed('no `data` list');
  const items = parsed.data as ImageItem[];
  if (items.length < expected) throw malformed(`${items.length} images where ${expected} were asked for`);
  return Promise.all(
    items.slice(0, expected).map(async (item, index) => {
      let bytes: Buffer;
      if (typeof item?.b64_json === 'string') bytes = decodeBase64Image(item.b64_json);
      else if (typeof item?.url === 'string') bytes = await download(item.url);
      else throw malformed(`item ${index} has neither b64_json nor url`);
      try {
        return await toPng(bytes);
      } catch (cause) {
        throw malformed(`item ${index}: ${(cause as Error).message}`, cause);
      }
    }),
  );
}
