import sharp from 'sharp';
import type { PreviewImage } from '../backend.js';

/** How often the renderer may show its work; small so previews cost a few ms per job. */
export interface PreviewPolicy {
  /** Least time between two previews of one job. */
  readonly minIntervalMs: number;
  /** Most previews one job sends (a batch or a video counts as one job). */
  readonly maxPreviews: number;
  /** Longest side of a preview, in pixels; smaller outputs are not enlarged. */
  readonly maxSide: number;
}

export const DEFAULT_PREVIEW_POLICY: PreviewPolicy = Object.freeze({ minIntervalMs: 200, maxPreviews: 8, maxSide: 256 });

/** Mid quality: a preview is glanced at for a fraction of a second, so bytes matter more. */
export const PREVIEW_JPEG_QUALITY = 70;

/** Raw 8-bit RGB pixels, at any size with the output's aspect ratio (a latent or a frame). */
export interface RawRgb {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** A preview's size in pixels (see {@link previewSize}). */
export interface PreviewSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Turns a capture into the image sent to clients, resized to `size`. It may finish later (the
 * default encodes in libvips, off the render loop) or at once: a result that is not a promise is
 * delivered before `offer` returns and never counts as being encoded, which lets tests run the
 * throttle without racing an encoder.
 */
export type PreviewEncoder = (rgb: RawRgb, size: PreviewSize) => PreviewImage | Promise<PreviewImage>;

/** The production encoder: resized in libvips and sent as a mid-quality JPEG. */
export const encodeJpegPreview: PreviewEncoder = async (rgb, size) => {
  const data = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .jpeg({ quality: PREVIEW_JPEG_QUALITY })
    .toBuffer();
  return { data, mime: 'image/jpeg' };
};

/** How one job's previews are throttled and made; every field has a production default. */
export interface LivePreviewOptions {
  /** Default {@link DEFAULT_PREVIEW_POLICY}. */
  readonly policy?: PreviewPolicy;
  /** Milliseconds from any fixed origin, never going back; default `performance.now()`. */
  readonly now?: () => number;
  /** Default {@link encodeJpegPreview}. */
  readonly encode?: PreviewEncoder;
}

/** One job's live previews: the render loop offers its state after each step; most offers cost one comparison. */
export interface LivePreviews {
  /**
   * Offers the state after `step` of `totalSteps`. `capture` is called (synchronously, so it
   * may read buffers the loop is about to overwrite) only when a preview is due; it must not
   * change what it reads, so previews never touch the render itself.
   */
  offer(step: number, totalSteps: number, capture: () => RawRgb): void;
  /** Waits for a preview still being encoded, so none arrives after the job's outputs. */
  flush(): Promise<void>;
  /** Drops anything still being encoded (cancel, failure): nothing is sent after this. */
  close(): void;
}

const NO_PREVIEWS: LivePreviews = Object.freeze({ offer: () => undefined, flush: () => Promise.resolve(), close: () => undefined });

/** The preview size for an output size: the long side at most `maxSide`, the aspect ratio kept. */
export function previewSize(width: number, height: number, maxSide: number): PreviewSize {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Live previews of an output of `width`×`height`. A preview is due at every
 * ceil(totalSteps / maxPreviews)-th step except the last (the result itself follows at once),
 * at least `minIntervalMs` after the previous one, at most `maxPreviews` per job and with at
 * most one being encoded at a time; offers that are not due are dropped, never queued. The
 * capture is encoded at the preview size (by default resized in libvips and sent as a JPEG).
 * Previews are best-effort: a failure to encode or deliver one is ignored. Without `onPreview`
 * every offer is a no-op.
 *
 * @example const previews = createLivePreviews(ctx.onPreview, 1024, 768); previews.offer(step, total, () => rgb)
 */
export function createLivePreviews(
  onPreview: ((preview: PreviewImage) => void) | undefined,
  width: number,
  height: number,
  options: LivePreviewOptions = {},
): LivePreviews {
  const { policy = DEFAULT_PREVIEW_POLICY, now = () => performance.now(), encode = encodeJpegPreview } = options;
  if (onPreview === undefined || policy.maxPreviews < 1) return NO_PREVIEWS;
  const size = previewSize(width, height, policy.maxSide);
  let sent = 0;
  let lastAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let open = true;

  const due = (step: number, totalSteps: number) => {
    const every = Math.max(1, Math.ceil(totalSteps / policy.maxPreviews));
    return step < totalSteps && step % every === 0 && sent < policy.maxPreviews && inFlight === undefined && now() - lastAt >= policy.minIntervalMs;
  };

  const deliver = (preview: PreviewImage) => {
    if (open) onPreview(preview);
  };

  return {
    offer(step, totalSteps, capture) {
      if (!open || !due(step, totalSteps)) return;
      sent += 1;
      lastAt = now();
      const rgb = capture();
      // Best-effort throughout: a lost preview must never fail the job.
      let encoded: PreviewImage | Promise<PreviewImage>;
      try {
        encoded = encode(rgb, size);
        if (!(encoded instanceof Promise)) return deliver(encoded);
      } catch {
        return;
      }
      // `finally` runs on a later tick, so it always sees this assignment.
      const job: Promise<void> = encoded
        .then(deliver)
        .catch(() => undefined)
        .finally(() => {
          if (inFlight === job) inFlight = undefined;
        });
      inFlight = job;
    },
    async flush() {
      await inFlight;
    },
    close() {
      open = false;
    },
  };
}
