import { readdirSync, readFileSync } from 'node:fs';
import { runFfmpeg } from '../../../src/media/video/ffmpeg.js';

/** Test helpers: decode videos back to raw RGB frames with the same ffmpeg the server uses. */

/** Every frame of a (small) video as raw RGB, `width * height * 3` bytes each. */
export async function decodeFrames(file: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  const size = width * height * 3;
  return Array.from({ length: stdout.length / size }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}

/** Frame `n` (0-based) picked by the select filter, which counts every decoded frame. */
export async function decodeFrame(file: string, n: number): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-vf', `select=eq(n\\,${n})`, '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  return (await runFfmpeg(args)).stdout;
}

/** Mean of each channel of raw RGB. */
export function meanRgb(rgb: Uint8Array): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    r += rgb[i]!;
    g += rgb[i + 1]!;
    b += rgb[i + 2]!;
  }
  const pixels = rgb.length / 3;
  return [r / pixels, g / pixels, b / pixels];
}

/** A solid-colour RGB frame. */
export function solidFrame(width: number, height: number, [r, g, b]: readonly [number, number, number]): Buffer {
  const frame = Buffer.alloc(width * height * 3);
  for (let i = 0; i < frame.length; i += 3) {
    frame[i] = r;
    frame[i + 1] = g;
    frame[i + 2] = b;
  }
  return frame;
}

/** The colour of frame i in the ramp videos: every frame clearly different from its neighbours. */
export const rampColour = (i: number): [number, number, number] => [Math.min(255, 10 * i), Math.max(0, 250 - 10 * i), 128];

/**
 * Live processes whose command line mentions `needle` (Linux /proc), to prove a child is gone.
 * Synchronous on purpose: tests call it inside progress callbacks, before the next frame.
 */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}
