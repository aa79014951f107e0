import sharp from 'sharp';
import type { PreviewImage } from './backend.js';
import { DEFAULT_PREVIEW_POLICY, PREVIEW_JPEG_QUALITY, type PreviewPolicy } from './builtin/live-preview.js';

/** One job's relay of a backend's own previews. */
export interface PreviewRelay {
  /** Offers a frame; most are dropped (too soon after the last, or while one is being resized). */
  offer(preview: PreviewImage): void;
  /** The job ended: a frame still being resized is dropped. */
  close(): void;
}

/**
 * Holds a backend's previews to what the builtin renderer sends: at most one per
 * `minIntervalMs` and no side over `maxSide` pixels. ComfyUI's SaveImageWebsocket sends full-size
 * frames, and a sampler may send one per step; a frame too big is resized to a JPEG off the
 * event loop (libvips). A frame that does not decode is dropped: previews are best effort.
 */
export function createPreviewRelay(
  deliver: (preview: PreviewImage) => void,
  options: { readonly policy?: PreviewPolicy; readonly now?: () => number } = {},
): PreviewRelay {
  const { minIntervalMs, maxSide } = options.policy ?? DEFAULT_PREVIEW_POLICY;
  const now = options.now ?? (() => performance.now());
  let last = Number.NEGATIVE_INFINITY;
  let resizing = false;
  let closed = false;

  async function fit(preview: PreviewImage): Promise<PreviewImage> {
    const { width = 0, height = 0 } = await sharp(preview.data).metadata();
    if (width === 0 || height === 0) throw new Error('no size');
    if (Math.max(width, height) <= maxSide) return preview;
    const data = await sharp(preview.data).resize(maxSide, maxSide, { fit: 'inside' }).jpeg({ quality: PREVIEW_JPEG_QUALITY }).toBuffer();
    return { data, mime: 'image/jpeg' };
  }

  return {
    offer(preview) {
      if (closed || resizing || now() - last < minIntervalMs) return;
      last = now();
      resizing = true;
      fit(preview).then(
        (fitted) => {
          resizing = false;
          if (!closed) deliver(fitted);
        },
        () => (resizing = false),
      );
    },
    close() {
      closed = true;
    },
  };
}
