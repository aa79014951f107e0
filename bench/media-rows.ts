import { loadavg } from 'node:os';
import { benchMediaPipeline } from './media-pipeline.js';
import { benchMidFrameThumbnail } from './mid-frame-thumbnail.js';

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/**
 * The media figures of issue #17 §3 as rows of [figure, Atelier, reference, ratio, target]:
 * mid-frame thumbnails (videos Atelier encodes, foreign videos and the decoders measured for
 * them) and the image pipeline. Shared by `npm run bench` and `npm run bench -- media`.
 */
export async function benchMediaRows(): Promise<string[][]> {
  const load = loadavg()[0]!;
  const midFrame = await benchMidFrameThumbnail();
  const mediaRows = await benchMediaPipeline();
  const opencv = (ms: number | undefined) => (ms === undefined ? `OpenCV: ${midFrame.note ?? 'unavailable'}` : `OpenCV seek (seed 000) ${fmt(ms)} ms`);
  const faster = (reference: number | undefined, ours: number) => (reference === undefined ? '—' : `${fmt(reference / ours, 2)}× as fast`);
  return [
    ['mid-frame thumbnail, 1080p 10 s, video Atelier encodes (from memory)', `${fmt(midFrame.ownFromMemoryMs)} ms`, opencv(midFrame.ownOpencvMs), faster(midFrame.ownOpencvMs, midFrame.ownFromMemoryMs), '≥ 5×'],
    ['mid-frame thumbnail, 1080p 10 s H.264, foreign video (seek)', `${fmt(midFrame.atelierMs)} ms`, opencv(midFrame.opencvMs), faster(midFrame.opencvMs, midFrame.atelierMs), '> 1×'],
    ...midFrame.options.map((o) => [`  ${o.label}`, `${fmt(o.ms)} ms`, opencv(midFrame.opencvMs), faster(midFrame.opencvMs, o.ms), '']),
    ...(midFrame.opencvMs === undefined ? [] : [['  (OpenCV note)', midFrame.note ?? '', '', '', '']]),
    ...mediaRows,
    [`  machine load (1-min load average) at the start of the media figures`, fmt(load, 2), '', '', ''],
  ];
}
