/**
 * One approach of bench/media-pipeline.ts, alone in its own process so its peak RSS is its own.
 * Usage: node dist/bench/media-pipeline-child.js atelier|naive PRESET ROUNDS FILE...
 * Prints one JSON object: images, seconds, peakRssBytes.
 */
import sharp from 'sharp';
import { DEFAULT_PRESETS, type DeliveryPreset } from '../src/media/image/presets.js';
import { THUMBNAIL_MAX_EDGE, THUMBNAIL_WEBP_QUALITY } from '../src/media/image/thumbnail.js';
import { renderDerivatives } from '../src/media/image/variants.js';

/**
 * The obvious way: one sharp pipeline per output, each reading and decoding the file. Run in
 * parallel like Atelier's encodes, so the only difference measured is the repeated decode.
 */
async function naive(file: string, preset: DeliveryPreset): Promise<number> {
  const inside = { fit: 'inside', withoutEnlargement: true } as const;
  const outputs = await Promise.all([
    sharp(file).resize(THUMBNAIL_MAX_EDGE, THUMBNAIL_MAX_EDGE, inside).webp({ quality: THUMBNAIL_WEBP_QUALITY }).toBuffer(),
    sharp(file).resize(preset.normal.width, preset.normal.height, inside).jpeg({ quality: preset.normal.quality }).toBuffer(),
    sharp(file).resize(preset.high.width, preset.high.height, inside).webp({ quality: preset.high.quality }).toBuffer(),
  ]);
  return outputs.reduce((sum, b) => sum + b.length, 0);
}

async function atelier(file: string, preset: DeliveryPreset): Promise<number> {
  const { thumbnail, variants } = await renderDerivatives(file, preset);
  return thumbnail.data.length + variants.reduce((sum, v) => sum + v.bytes, 0);
}

const [approach, presetName, roundsText, ...files] = process.argv.slice(2);
const preset = DEFAULT_PRESETS.find((p) => p.name === presetName);
if ((approach !== 'atelier' && approach !== 'naive') || preset === undefined || files.length === 0) {
  throw new Error('usage: media-pipeline-child atelier|naive PRESET ROUNDS FILE...');
}
// Every image a server processes is new, so libvips' operation cache must not serve repeats.
sharp.cache(false);
const run = approach === 'atelier' ? atelier : naive;
for (const file of files) await run(file, preset); // warm-up: libvips start-up, JIT
const rounds = Number(roundsText);
const started = performance.now();
for (let round = 0; round < rounds; round++) for (const file of files) await run(file, preset);
const seconds = (performance.now() - started) / 1000;
// maxRSS is in KiB.
process.stdout.write(`${JSON.stringify({ images: rounds * files.length, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
