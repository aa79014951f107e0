import sharp from 'sharp';
import { UnrecoverableError } from '../../errors/signals.js';
import type { RenderOptions, RgbPixels } from '../image/variants.js';
import { THUMBNAIL_WEBP_QUALITY, type Thumbnail } from '../image/thumbnail.js';
import { SAFETY_INPUT_SIZE } from './safety-classifier.js';
import { actionFor, refusalMessage, type SafetyRecord } from './safety-policy.js';
import type { SafetyScan } from './safety-scanner.js';

/** Longest edge of the picture a blurred thumbnail is enlarged from (as renderDerivatives does). */
const BLUR_EDGE = 24;

/**
 * The safety scan of one image output, run by renderDerivatives on the pixels it decoded
 * (`inspect`), so the picture is never decoded twice. Under `flag` the scan runs beside the
 * encoding; under `blur` and `block` the encoding waits for the verdict, because it decides
 * what is encoded (blurred copies) or whether anything is (a refusal, `output_refused`, thrown
 * before a single variant is made).
 *
 * @example
 * const check = inspectImage(scan, 0);
 * const derivatives = await renderDerivatives(png, preset, { inspect: check.inspect });
 * const safety = await check.record();
 */
export function inspectImage(scan: SafetyScan, index: number): { readonly inspect: NonNullable<RenderOptions['inspect']>; record(): Promise<SafetyRecord | undefined> } {
  let scanned: Promise<SafetyRecord> | undefined;
  let blurred = false;
  return {
    inspect: {
      size: SAFETY_INPUT_SIZE,
      async run(pixels) {
        scanned = scan.scan(pixels);
        if (scan.policy === 'flag') {
          // Awaited by record(); until then a failure must not count as unhandled.
          scanned.catch(() => {});
          return { blur: false };
        }
        blurred = enforce(scan, index, await scanned) === 'blur';
        return { blur: blurred };
      },
    },
    async record() {
      if (!scanned) return undefined;
      const record = await scanned;
      return blurred ? { ...record, blurred: true } : record;
    },
  };
}

/**
 * The safety scan of a video: its thumbnail, which is its poster and its middle frame. Returns
 * the verdict and the thumbnail to store — blurred when the policy says so (the video itself is
 * only ever served to its owner). A refused video throws `output_refused`.
 *
 * @example const { record, thumbnail: stored } = await scanVideoThumbnail(scan, 0, thumbnail)
 */
export async function scanVideoThumbnail(scan: SafetyScan, index: number, thumbnail: Thumbnail): Promise<{ record: SafetyRecord; thumbnail: Thumbnail }> {
  const pixels = await toRgb(sharp(thumbnail.data).resize(SAFETY_INPUT_SIZE, SAFETY_INPUT_SIZE, { fit: 'fill' }));
  const record = await scan.scan(pixels);
  if (enforce(scan, index, record) !== 'blur') return { record, thumbnail };
  const small = await sharp(thumbnail.data).resize(BLUR_EDGE, BLUR_EDGE, { fit: 'inside' }).blur(1).toBuffer();
  const data = await sharp(small).resize(thumbnail.width, thumbnail.height, { fit: 'fill', kernel: 'cubic' }).webp({ quality: THUMBNAIL_WEBP_QUALITY }).toBuffer();
  return { record: { ...record, blurred: true }, thumbnail: { ...thumbnail, data } };
}

/** Applies the policy's refusal; returns the action left to take. */
function enforce(scan: SafetyScan, index: number, record: SafetyRecord): 'keep' | 'blur' {
  const action = actionFor(scan.policy, record);
  if (action === 'refuse') throw new UnrecoverableError(refusalMessage(index, record, scan.threshold), 'output_refused');
  return action;
}

async function toRgb(image: sharp.Sharp): Promise<RgbPixels> {
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
