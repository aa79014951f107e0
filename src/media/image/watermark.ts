import sharp, { type OverlayOptions } from 'sharp';
import type { Size } from './fit-inside.js';
import type { WatermarkSpec } from './presets.js';

/** The mark at its full resolution, opacity already in its alpha: raw RGBA. */
interface MarkPixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

// Rendered text is drawn this large, then shrunk per variant: sharp's text input rasterises at
// one DPI, and shrinking a large rendering keeps the glyph edges smooth at every variant size.
const TEXT_DPI = 400;
// The gap between the mark and the picture's edge, as a fraction of the shorter edge.
const MARGIN = 0.02;
// The face text marks are drawn in; fontconfig picks the closest installed one.
const TEXT_FONT = 'sans bold';

/**
 * One decoded mark per preset, for the life of the process: the file is read and the text
 * rasterised once, not once per image. Keyed by the frozen spec the preset holds.
 */
const marks = new WeakMap<WatermarkSpec, Promise<MarkPixels>>();

/**
 * The composite layer that draws `spec` on a variant of `size`: the mark scaled to
 * `spec.size` of the variant's width (and never taller than the variant), a transparent
 * margin around it, placed by gravity. Applied by the variant's own pipeline after its
 * resize, so the original and the thumbnail never carry it.
 *
 * @throws Error (from sharp) when the image file cannot be read or decoded.
 * @example pipeline.composite([await watermarkLayer(preset.watermark, { width: 768, height: 512 })])
 */
export async function watermarkLayer(spec: WatermarkSpec, size: Size): Promise<OverlayOptions> {
  let pending = marks.get(spec);
  if (pending === undefined) {
    pending = renderMark(spec);
    // A failed read is not cached: the next image tries again (the file may be restored).
    pending.catch(() => marks.delete(spec));
    marks.set(spec, pending);
  }
  const mark = await pending;
  const margin = Math.round(Math.min(size.width, size.height) * MARGIN);
  const room = { width: Math.max(1, size.width - 2 * margin), height: Math.max(1, size.height - 2 * margin) };
  // Scaled to the share of the width asked for (a small logo is enlarged too), never past the room left.
  const scale = Math.min(Math.min(size.width * spec.size, room.width) / mark.width, room.height / mark.height);
  const box = { width: Math.max(1, Math.round(mark.width * scale)), height: Math.max(1, Math.round(mark.height * scale)) };
  const scaled = await sharp(mark.data, { raw: { width: mark.width, height: mark.height, channels: 4 } })
    .resize(box.width, box.height, { fit: 'fill' })
    .extend({ top: margin, bottom: margin, left: margin, right: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    input: scaled.data,
    raw: { width: scaled.info.width, height: scaled.info.height, channels: 4 },
    gravity: spec.position.replace('-', ''),
  };
}

async function renderMark(spec: WatermarkSpec): Promise<MarkPixels> {
  const { data, info } = spec.image !== undefined ? await imageMark(spec.image) : await textMark(spec.text);
  // Opacity lives in the mark's alpha, so compositing stays a plain "over".
  if (spec.opacity < 1) for (let i = 3; i < data.length; i += 4) data[i] = Math.round(data[i]! * spec.opacity);
  return { data, width: info.width, height: info.height };
}

function imageMark(file: string) {
  return sharp(file).autoOrient().toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
}

/**
 * White text over a soft dark shadow, so the mark reads on light and dark pictures alike.
 * The text goes through Pango markup, hence the escaping.
 */
async function textMark(text: string) {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const white = await sharp({ text: { text: `<span foreground="white">${escaped}</span>`, font: TEXT_FONT, dpi: TEXT_DPI, rgba: true } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = white.info;
  const pad = Math.ceil(height * 0.15);
  // The shadow: the text's own alpha on black, blurred.
  const shadow = Buffer.alloc(width * height * 4);
  for (let i = 3; i < shadow.length; i += 4) shadow[i] = Math.round(white.data[i]! * 0.8);
  const blurred = await sharp(shadow, { raw: { width, height, channels: 4 } })
    .extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .blur(Math.max(0.3, pad / 3))
    .png()
    .toBuffer();
  return sharp(blurred)
    .composite([{ input: white.data, raw: { width, height, channels: 4 }, top: pad, left: pad }])
    .raw()
    .toBuffer({ resolveWithObject: true });
}

/**
 * Whether this machine can draw text marks: sharp's text input goes through Pango, which asks
 * fontconfig for a face. When fontconfig finds no font at all, Pango still "renders" — every
 * character as the same small box, 8×12 whatever the DPI, with or without ink from one run to
 * the next — so neither success nor ink proves a font. Scale does: a real face (any, monospaced
 * too) drawn at 4× the DPI comes out about 4× as tall, with ink. The two renderings run one
 * after the other: concurrent first renderings raced in Pango's start-up here.
 *
 * @example if (!(await canRenderText())) throw new Error('install a font (Debian: fonts-dejavu-core)')
 */
export async function canRenderText(): Promise<boolean> {
  const draw = (dpi: number) => sharp({ text: { text: 'O', font: TEXT_FONT, dpi, rgba: true } }).raw().toBuffer({ resolveWithObject: true });
  const small = await draw(72);
  const large = await draw(288);
  let ink = false;
  for (let i = 3; i < large.data.length && !ink; i += 4) ink = large.data[i]! > 0;
  return ink && large.info.height >= 2 * small.info.height;
}
