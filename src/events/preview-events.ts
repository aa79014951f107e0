import type { EventBus } from './event-bus.js';

/** The image types a preview may have. */
export type PreviewMime = 'image/jpeg' | 'image/png' | 'image/webp';

/**
 * Announces a live preview of a running job as an ephemeral `preview` event: published on
 * the bus for whoever streams the job now, never stored (previews are many and large, and
 * worthless once the job moves on). SSE clients get `{runId, type, at, mime, image, step?,
 * totalSteps?}` where `image` is a `data:` URL usable as an `<img src>`.
 */
export async function publishPreview(
  bus: EventBus,
  job: { id: string; user_id: string },
  preview: { data: Buffer; mime: PreviewMime },
  progress?: { step: number; totalSteps: number },
  now: number = Date.now(),
): Promise<void> {
  await bus.publish({
    jobId: job.id,
    userId: job.user_id,
    seq: 0,
    type: 'preview',
    at: now,
    data: { mime: preview.mime, image: `data:${preview.mime};base64,${preview.data.toString('base64')}`, ...(progress ?? {}) },
  });
}

/** The type of an encoded preview image from its magic bytes, or undefined for anything else. */
export function previewMime(data: Buffer): PreviewMime | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}
