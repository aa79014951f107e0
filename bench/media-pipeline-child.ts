/**
 * One approach of bench/media-pipeline.ts, alone in its own process so its peak RSS is its own.
 * Usage: node dist/bench/media-pipeline-child.js atelier|atelier-2|naive|bound|idle PRESET ROUNDS FILE...
 * Prints one JSON object: images, seconds, cpuSeconds (this process, every thread), peakRssBytes.
 *
 * - atelier: `renderDerivatives`, one image at a time.
 * - atelier-2: the same with two images in flight (a batch, or runner.concurrency 2).
 * - naive: one sharp pipeline per output, each decoding the file.
 * - bound: only the encoders — each output's pixels are prepared beforehand (untimed), then
 *   each encode runs alone with the same settings; `seconds` is their sum, so images/seconds
 *   is what one core could do if decoding and resizing were free.
 * - idle: nothing but loading sharp and one tiny encode: the process's floor.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { fitInside } from '../src/media/image/fit-inside.js';
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
    sharp(file).resize(preset.normal.width, preset.normal.height, inside).jpeg({ quality: preset.normal.quality, progressive: true }).toBuffer(),
    sharp(file).resize(preset.high.width, preset.high.height, inside).webp({ quality: preset.high.quality }).toBuffer(),
  ]);
  return outputs.reduce((sum, b) => sum + b.length, 0);
}

async function atelier(file: string, preset: DeliveryPreset): Promise<number> {
  const { thumbnail, variants } = await renderDerivatives(file, preset);
  return thumbnail.data.length + variants.reduce((sum, v) => sum + v.bytes, 0);
}

type Raw = { data: Buffer; info: sharp.OutputInfo };

/** Each output's pixels at its final size, made beforehand so that only encoding is timed. */
async function prepared(file: string, preset: DeliveryPreset): Promise<{ encode: () => Promise<Buffer> }[]> {
  const meta = await sharp(file).metadata();
  const at = async (box: { width: number; height: number }): Promise<Raw> => {
    const size = fitInside({ width: meta.width, height: meta.height }, box);
    return sharp(file).resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  };
  const from = ({ data, info }: Raw) => sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const [thumb, normal, high] = await Promise.all([at({ width: THUMBNAIL_MAX_EDGE, height: THUMBNAIL_MAX_EDGE }), at(preset.normal), at(preset.high)]);
  return [
    { encode: () => from(thumb).webp({ quality: THUMBNAIL_WEBP_QUALITY }).toBuffer() },
    { encode: () => from(normal).jpeg({ quality: preset.normal.quality, progressive: true }).toBuffer() },
    { encode: () => from(high).webp({ quality: preset.high.quality }).toBuffer() },
  ];
}

const [approach, presetName, roundsText, ...files] = process.argv.slice(2);
const preset = DEFAULT_PRESETS.find((p) => p.name === presetName);
if (!['atelier', 'atelier-2', 'naive', 'bound', 'idle'].includes(approach ?? '') || preset === undefined || files.length === 0) {
  throw new Error('usage: media-pipeline-child atelier|atelier-2|naive|bound|idle PRESET ROUNDS FILE...');
}
// Every image a server processes is new, so libvips' operation cache must not serve repeats
// (renderDerivatives sets this itself; the other approaches get the same).
sharp.cache(false);
const rounds = Number(roundsText);
const report = (images: number, seconds: number, cpuSeconds: number) =>
  process.stdout.write(`${JSON.stringify({ images, seconds, cpuSeconds, peakRssBytes: peakRssBytes() })}\n`);

/**
 * This process's peak RSS. On Linux, the address space's high-water mark (VmHWM): getrusage's
 * maxRSS also counts the bench process this one was forked from, whose RSS the child shares
 * until exec — every figure would be at least the parent's size.
 */
function peakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024; // KiB
}
/** CPU seconds (user + system, all threads) since `since`. */
const cpuSince = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
};

if (approach === 'idle') {
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).webp().toBuffer();
  report(0, 0, 0);
} else if (approach === 'bound') {
  let seconds = 0;
  let cpuSeconds = 0;
  for (const file of files) {
    const encodes = await prepared(file, preset);
    for (const { encode } of encodes) await encode(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const { encode } of encodes) {
        const started = performance.now();
        const cpu = process.cpuUsage();
        await encode();
        seconds += (performance.now() - started) / 1000;
        cpuSeconds += cpuSince(cpu);
      }
    }
  }
  report(rounds * files.length, seconds, cpuSeconds);
} else {
  const one = approach === 'naive' ? naive : atelier;
  for (const file of files) await one(file, preset); // warm-up: libvips start-up, JIT
  const queue = Array.from({ length: rounds }, () => files).flat();
  const inFlight = approach === 'atelier-2' ? 2 : 1;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) await one(file, preset);
    }),
  );
  report(rounds * files.length, (performance.now() - started) / 1000, cpuSince(cpu));
}
