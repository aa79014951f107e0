import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runFfmpeg } from '../src/media/video/ffmpeg.js';
import { midFrameThumbnail } from '../src/media/video/mid-frame-thumbnail.js';
import { probeVideo } from '../src/media/video/probe-video.js';

const run = promisify(execFile);

const ROUNDS = 5;
/** Cached across runs: encoding 300 frames of 1080p takes longer than the benchmark itself. */
const VIDEO = join(tmpdir(), 'atelier-bench-testsrc2-1920x1080-30fps-10s.mp4');

export interface MidFrameThumbnailBench {
  /** Median ms of `midFrameThumbnail` (ffmpeg seek + one-frame decode + sharp WEBP). */
  readonly atelierMs: number;
  /** Median ms of seed 000's OpenCV code for the same work; undefined when OpenCV is missing. */
  readonly opencvMs: number | undefined;
  readonly note?: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A 10 s, 30 fps, 1080p H.264 test video (ffmpeg's testsrc2), made once and kept in tmpdir. */
async function testVideo(): Promise<string> {
  if (existsSync(VIDEO)) return VIDEO;
  const partial = `${VIDEO}.${process.pid}.partial.mp4`;
  // prettier-ignore
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', partial]);
  await rename(partial, VIDEO); // atomic: a half-written cache is never picked up
  return VIDEO;
}

/**
 * The video thumbnail (SPEC §4: middle frame, 256 px WEBP q85) of a 1080p, 300-frame H.264
 * file: Atelier's `midFrameThumbnail` against seed 000's OpenCV code
 * (`bench/reference/opencv_mid_frame.py`), median of 5 each after a warm-up. Atelier's time
 * includes spawning ffmpeg; OpenCV's is the seed's seek + read + resize + encode inside an
 * already-running Python (its open-to-encode time is in the note). Both must decode forward
 * from the keyframe before frame 150.
 */
export async function benchMidFrameThumbnail(): Promise<MidFrameThumbnailBench> {
  const file = await testVideo();
  const probeTimes: number[] = [];
  let probe = await probeVideo(file);
  await midFrameThumbnail(file, probe); // warm-up: page cache, binary load
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    let started = performance.now();
    probe = await probeVideo(file);
    probeTimes.push(performance.now() - started);
    started = performance.now();
    await midFrameThumbnail(file, probe);
    times.push(performance.now() - started);
  }
  const atelierMs = median(times);
  const probeNote = `ffprobe for the frame count adds ${median(probeTimes).toFixed(0)} ms`;
  const opencv = await opencvReference(file);
  if ('note' in opencv) return { atelierMs, opencvMs: undefined, note: `${opencv.note}; ${probeNote}` };
  return { atelierMs, opencvMs: opencv.ms, note: `OpenCV ${opencv.version}: ${opencv.openMs.toFixed(0)} ms including open + frame count; ${probeNote}` };
}

type OpencvResult = { ms: number; openMs: number; version: string } | { note: string };

/** Runs the OpenCV reference, or says why it cannot (no python3, no cv2, no script). */
async function opencvReference(file: string): Promise<OpencvResult> {
  // bench/reference is not compiled: from dist/bench it is two levels up, from bench/ beside us.
  const script = [new URL('./reference/opencv_mid_frame.py', import.meta.url), new URL('../../bench/reference/opencv_mid_frame.py', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((path) => existsSync(path));
  if (script === undefined) return { note: 'bench/reference/opencv_mid_frame.py not found' };
  const python = await findPythonWithOpencv();
  if (python === undefined) return { note: 'python3-opencv not installed (apt-get install python3-opencv)' };
  const { stdout } = await run(python, [script, file, String(ROUNDS)], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout) as { seek_read_resize_encode_ms: number; open_to_encode_ms: number; opencv: string };
  return { ms: result.seek_read_resize_encode_ms, openMs: result.open_to_encode_ms, version: result.opencv };
}

/** The first interpreter that imports cv2: `BENCH_PYTHON`, `python3`, then Debian's `/usr/bin/python3`. */
async function findPythonWithOpencv(): Promise<string | undefined> {
  for (const candidate of [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!candidate) continue;
    try {
      await run(candidate, ['-c', 'import cv2']);
      return candidate;
    } catch {
      // Not installed here, or no cv2: try the next.
    }
  }
  return undefined;
}

