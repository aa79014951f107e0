import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMp4 } from '../../../src/media/video/encode-mp4.js';
import { probeVideo } from '../../../src/media/video/probe-video.js';
import { decodeFrames, meanRgb, processesMentioning, rampColour, solidFrame } from './frames.js';

const W = 64;
const H = 48;

async function* ramp(count: number, delayMs = 0): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i += 1) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield solidFrame(W, H, rampColour(i));
  }
}

describe('encodeMp4 and probeVideo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atelier-encode-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('encodes raw frames into an H.264 MP4 of the right size, rate, frame count and duration', async () => {
    const file = path.join(dir, 'ramp.mp4');
    await encodeMp4(ramp(24), { width: W, height: H, fps: 12, file });
    const probe = await probeVideo(file);
    expect(probe).toEqual({ width: W, height: H, fps: 12, frame_count: 24, duration_seconds: expect.any(Number), codec: 'h264', file_size_bytes: (await stat(file)).size });
    expect(probe.duration_seconds).toBeCloseTo(2, 1);
    const head = await readFile(file);
    expect(head.toString('latin1', 4, 8)).toBe('ftyp');
    // faststart: the index (moov) comes before the media data (mdat)
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat'));
  });

  it('keeps every frame in order (decoded colours match what was sent)', async () => {
    const file = path.join(dir, 'order.mp4');
    await encodeMp4(ramp(20), { width: W, height: H, fps: 10, file });
    const frames = await decodeFrames(file, W, H);
    expect(frames).toHaveLength(20);
    frames.forEach((frame, i) => {
      const [r, g, b] = meanRgb(frame);
      const [er, eg, eb] = rampColour(i);
      expect(Math.abs(r - er) + Math.abs(g - eg) + Math.abs(b - eb), `frame ${i}`).toBeLessThan(9);
    });
  });

  it('writes byte-identical files for identical frames', async () => {
    const a = path.join(dir, 'a.mp4');
    const b = path.join(dir, 'b.mp4');
    await encodeMp4(ramp(16), { width: W, height: H, fps: 8, file: a });
    await encodeMp4(ramp(16), { width: W, height: H, fps: 8, file: b });
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it('refuses odd sizes and wrong-sized frames, leaving no file', async () => {
    const file = path.join(dir, 'bad.mp4');
    await expect(encodeMp4(ramp(2), { width: 63, height: 48, fps: 8, file })).rejects.toThrow(/even/);
    async function* wrong() {
      yield solidFrame(W, H, [0, 0, 0]);
      yield Buffer.alloc(10);
    }
    await expect(encodeMp4(wrong(), { width: W, height: H, fps: 8, file })).rejects.toThrow(/frame 1 .*received 10/);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('kills ffmpeg and rejects when aborted mid-stream', async () => {
    const file = path.join(dir, 'aborted-unique-name.mp4');
    const controller = new AbortController();
    let runningBeforeAbort: number[] = [];
    async function* frames() {
      for (let i = 0; ; i += 1) {
        if (i === 10) {
          runningBeforeAbort = processesMentioning('aborted-unique-name.mp4');
          controller.abort();
        }
        yield solidFrame(W, H, rampColour(i % 25));
      }
    }
    await expect(encodeMp4(frames(), { width: W, height: H, fps: 8, file, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(runningBeforeAbort).toHaveLength(1); // the check below can see ffmpeg…
    expect(processesMentioning('aborted-unique-name.mp4')).toEqual([]); // …and it is gone
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('kills ffmpeg and rethrows when the frame source fails', async () => {
    const file = path.join(dir, 'source-fails.mp4');
    async function* frames() {
      yield solidFrame(W, H, [1, 2, 3]);
      throw new Error('renderer exploded');
    }
    await expect(encodeMp4(frames(), { width: W, height: H, fps: 8, file })).rejects.toThrow('renderer exploded');
    expect(processesMentioning('source-fails.mp4')).toEqual([]);
  });

  it('probes the frame count of a container without an index by counting', async () => {
    const mkv = path.join(dir, 'ramp.mkv');
    const { runFfmpeg } = await import('../../../src/media/video/ffmpeg.js');
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=1.5', '-c:v', 'libx264', mkv]);
    const probe = await probeVideo(mkv);
    expect([probe.frame_count, probe.fps, probe.codec]).toEqual([15, 10, 'h264']);
  });

  it('rejects a file that is not a video', async () => {
    const text = path.join(dir, 'not-a-video.mp4');
    await (await import('node:fs/promises')).writeFile(text, 'hello');
    await expect(probeVideo(text)).rejects.toThrow(/ffprobe exited/);
  });
});
