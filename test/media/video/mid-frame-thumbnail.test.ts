import { availableParallelism } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMp4 } from '../../../src/media/video/encode-mp4.js';
import { runFfmpeg } from '../../../src/media/video/ffmpeg.js';
import { midFrameArgs, midFrameIndex, midFrameThumbnail } from '../../../src/media/video/mid-frame-thumbnail.js';
import { probeVideo } from '../../../src/media/video/probe-video.js';
import { ssim } from '../../../src/media/image/similarity.js';
import { decodeFrame, meanRgb, rampColour, solidFrame } from './frames.js';

/** The thumbnail decoded back to raw RGB. */
async function thumbnailRgb(data: Buffer) {
  const { data: rgb, info } = await sharp(data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb, width: info.width, height: info.height };
}

/** A frame resized like the thumbnail, for SSIM against it. */
async function resizedLike(frame: Buffer, width: number, height: number, tw: number, th: number) {
  return sharp(frame, { raw: { width, height, channels: 3 } }).resize(tw, th, { fit: 'fill' }).raw().toBuffer();
}

describe('midFrameThumbnail', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atelier-thumb-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes with one thread per core, set before the input (a decoder option)', () => {
    const { args } = midFrameArgs('/clips/a.mp4', { frame_count: 48, fps: 16 });
    const threads = args.indexOf('-threads');
    expect(args[threads + 1]).toBe(String(availableParallelism()));
    expect(threads).toBeLessThan(args.indexOf('-i'));
  });

  it('picks floor(frames / 2), like seed 000', () => {
    expect([midFrameIndex(0), midFrameIndex(1), midFrameIndex(2), midFrameIndex(25), midFrameIndex(48)]).toEqual([0, 0, 1, 12, 24]);
  });

  it.each([
    ['one keyframe (the decoder must run forward from frame 0)', 25, 15, []],
    ['a keyframe every 4 frames (the seek must land between them)', 25, 15, ['-g', '4', '-keyint_min', '4', '-sc_threshold', '0']],
    ['an even count at 16 fps', 48, 16, ['-g', '7']],
  ])('shows exactly the middle frame of a colour ramp: %s', async (_, count, fps, x264Args) => {
    const file = path.join(dir, `ramp-${count}-${x264Args.length}.mp4`);
    const raw = Buffer.concat(Array.from({ length: count }, (_, i) => solidFrame(320, 240, rampColour(i))));
    // prettier-ignore
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '320x240', '-r', String(fps), '-i', '-',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '18', ...x264Args, file], { stdin: (async function* () { yield raw; })() });
    const probe = await probeVideo(file);
    expect(probe.frame_count).toBe(count);
    const thumb = await midFrameThumbnail(file, probe);
    expect([thumb.width, thumb.height]).toEqual([256, 192]);
    expect((await sharp(thumb.data).metadata()).format).toBe('webp');
    const [r, g] = meanRgb((await thumbnailRgb(thumb.data)).rgb);
    const [mr, mg] = rampColour(midFrameIndex(count));
    // Neighbouring frames differ by 10 levels per channel: within 4 means this frame and no other.
    expect(Math.abs(r - mr), `red of frame ${midFrameIndex(count)}`).toBeLessThan(4);
    expect(Math.abs(g - mg)).toBeLessThan(4);
    const [fr] = rampColour(0);
    expect(Math.abs(r - fr)).toBeGreaterThan(50); // not the first frame
  });

  it('matches the decoded middle frame of a moving picture and differs from the first', async () => {
    const file = path.join(dir, 'moving.mp4');
    const width = 480;
    const height = 270;
    async function* frames() {
      for (let i = 0; i < 30; i += 1) {
        // A bright square sliding across a gradient, so each frame has structure in a new place.
        const frame = Buffer.alloc(width * height * 3);
        for (let y = 0; y < height; y += 1) {
          for (let x = 0; x < width; x += 1) {
            const o = (y * width + x) * 3;
            const inSquare = x >= i * 14 && x < i * 14 + 60 && y >= 100 && y < 160;
            frame[o] = inSquare ? 255 : Math.floor((x / width) * 200);
            frame[o + 1] = inSquare ? 255 : Math.floor((y / height) * 200);
            frame[o + 2] = 60;
          }
        }
        yield frame;
      }
    }
    await encodeMp4(frames(), { width, height, fps: 15, file });
    const thumb = await midFrameThumbnail(file, await probeVideo(file));
    const { rgb, width: tw, height: th } = await thumbnailRgb(thumb.data);
    const middle = await resizedLike(await decodeFrame(file, 15), width, height, tw, th);
    const first = await resizedLike(await decodeFrame(file, 0), width, height, tw, th);
    expect(ssim(rgb, middle, tw, th)).toBeGreaterThan(0.9);
    expect(ssim(rgb, first, tw, th)).toBeLessThan(ssim(rgb, middle, tw, th) - 0.05);
  });

  it('takes the same frame from memory while encoding as the seek picks from the file (issue #17 §3)', async () => {
    const file = path.join(dir, 'memory.mp4');
    const width = 480;
    const height = 270;
    const count = 31;
    async function* frames() {
      for (let i = 0; i < count; i += 1) {
        const frame = Buffer.alloc(width * height * 3);
        for (let y = 0; y < height; y += 1) {
          for (let x = 0; x < width; x += 1) {
            const o = (y * width + x) * 3;
            const inSquare = x >= i * 13 && x < i * 13 + 60 && y >= 100 && y < 160;
            frame[o] = inSquare ? 255 : Math.floor((x / width) * 200);
            frame[o + 1] = inSquare ? 255 : Math.floor((y / height) * 200);
            frame[o + 2] = 60;
          }
        }
        yield frame;
        // Like a renderer reusing its buffer: the encoder must have copied the middle frame.
        frame.fill(0);
      }
    }
    const { thumbnail } = await encodeMp4(frames(), { width, height, fps: 15, file, frameCount: count });
    expect(thumbnail).toBeDefined();
    const seeked = await midFrameThumbnail(file, await probeVideo(file));
    expect([thumbnail!.width, thumbnail!.height]).toEqual([seeked.width, seeked.height]);
    expect((await sharp(thumbnail!.data).metadata()).format).toBe('webp');
    const fromMemory = await thumbnailRgb(thumbnail!.data);
    const fromFile = await thumbnailRgb(seeked.data);
    const { width: tw, height: th } = fromFile;
    // Within encoding loss of the seek's frame, and clearly not a neighbour (the square moves 13 px a frame).
    const neighbour = await resizedLike(await decodeFrame(file, midFrameIndex(count) + 1), width, height, tw, th);
    const same = ssim(fromMemory.rgb, fromFile.rgb, tw, th);
    expect(same).toBeGreaterThan(0.9);
    expect(ssim(fromMemory.rgb, neighbour, tw, th)).toBeLessThan(same - 0.02);
  });

  it('keeps no thumbnail when the frame count was not announced, or was wrong', async () => {
    async function* ramp(n: number) {
      for (let i = 0; i < n; i += 1) yield solidFrame(64, 48, rampColour(i));
    }
    const file = path.join(dir, 'unannounced.mp4');
    expect((await encodeMp4(ramp(10), { width: 64, height: 48, fps: 10, file })).thumbnail).toBeUndefined();
    expect((await encodeMp4(ramp(10), { width: 64, height: 48, fps: 10, file, frameCount: 12 })).thumbnail).toBeUndefined();
    const announced = await encodeMp4(ramp(10), { width: 64, height: 48, fps: 10, file, frameCount: 10 });
    const [r] = meanRgb((await thumbnailRgb(announced.thumbnail!.data)).rgb);
    expect(Math.abs(r - rampColour(5)[0])).toBeLessThan(4);
  });

  it('rejects when the file is not a video', async () => {
    await expect(midFrameThumbnail(path.join(dir, 'missing.mp4'), { frame_count: 10, fps: 10 })).rejects.toThrow(/ffmpeg exited/);
  });
});
