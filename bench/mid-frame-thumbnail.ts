import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeThumbnail } from '../src/media/image/thumbnail.js';
import { encodeMp4 } from '../src/media/video/encode-mp4.js';
import { ffmpegPath, runFfmpeg, runTool } from '../src/media/video/ffmpeg.js';
import { thumbnailFromRgb } from '../src/media/video/frame-thumbnail.js';
import { midFrameArgs, midFrameIndex, midFrameThumbnail } from '../src/media/video/mid-frame-thumbnail.js';
import { probeVideo } from '../src/media/video/probe-video.js';

const run = promisify(execFile);

const ROUNDS = 5;
const W = 1920;
const H = 1080;
const FRAMES = 300;
/** Cached across runs: encoding 300 frames of 1080p takes longer than the benchmark itself. */
const FOREIGN = join(tmpdir(), 'atelier-bench-testsrc2-1920x1080-30fps-10s.mp4');
/** The same picture encoded by Atelier's own encodeMp4, and its middle frame as raw RGB. */
const OWN = join(tmpdir(), 'atelier-bench-encodemp4-1920x1080-30fps-10s.mp4');
const OWN_MIDDLE = `${OWN}.middle.rgb`;
/** Debian's ffmpeg (5.1 on bookworm), measured beside the bundled 4.1 when installed. */
const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

/** One way of taking the thumbnail, timed on one file. */
export interface MidFrameOption {
  readonly label: string;
  readonly ms: number;
}

export interface MidFrameThumbnailBench {
  /** Videos Atelier encodes: median ms of the thumbnail made from the middle frame in memory (what encodeMp4 adds, no copy). */
  readonly ownFromMemoryMs: number;
  /** OpenCV's seek on that file (encoded by encodeMp4); undefined without OpenCV. */
  readonly ownOpencvMs: number | undefined;
  /** Foreign videos: median ms of `midFrameThumbnail` (bundled ffmpeg seek + one-frame decode + sharp WEBP). */
  readonly atelierMs: number;
  /** Median ms of seed 000's OpenCV code for the same work; undefined when OpenCV is missing. */
  readonly opencvMs: number | undefined;
  /** The other decoders measured on the foreign file (same seek and filter). */
  readonly options: readonly MidFrameOption[];
  readonly note?: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A 10 s, 30 fps, 1080p H.264 test video (ffmpeg's testsrc2, x264 veryfast), made once and kept in tmpdir. */
async function foreignVideo(): Promise<string> {
  if (existsSync(FOREIGN)) return FOREIGN;
  const partial = `${FOREIGN}.${process.pid}.partial.mp4`;
  // prettier-ignore
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30:duration=10`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', partial]);
  await rename(partial, FOREIGN); // atomic: a half-written cache is never picked up
  return FOREIGN;
}

/** testsrc2's frames as raw RGB, streamed from ffmpeg one frame at a time. */
async function* testsrcFrames(): AsyncGenerator<Buffer> {
  // prettier-ignore
  const child = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30:duration=10`,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const frameBytes = W * H * 3;
  let pending: Buffer[] = [];
  let held = 0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending.push(chunk);
    held += chunk.length;
    while (held >= frameBytes) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, frameBytes);
      pending = [all.subarray(frameBytes)];
      held -= frameBytes;
    }
  }
}

/** The same pictures through Atelier's encodeMp4 (as the builtin renderer encodes), and the middle frame it kept. */
async function ownVideo(): Promise<{ file: string; middle: Buffer }> {
  if (!existsSync(OWN) || !existsSync(OWN_MIDDLE)) {
    const partial = `${OWN}.${process.pid}.partial.mp4`;
    let middle: Buffer | undefined;
    let index = 0;
    async function* keepMiddle(): AsyncGenerator<Buffer> {
      for await (const frame of testsrcFrames()) {
        if (index === midFrameIndex(FRAMES)) middle = Buffer.from(frame);
        index += 1;
        yield frame;
      }
    }
    await encodeMp4(keepMiddle(), { width: W, height: H, fps: 30, file: partial, frameCount: FRAMES });
    await writeFile(OWN_MIDDLE, middle!);
    await rename(partial, OWN);
  }
  return { file: OWN, middle: await readFile(OWN_MIDDLE) };
}

/** Median of ROUNDS timed calls after one untimed warm-up. */
async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * The video thumbnail (SPEC §4: middle frame, 256 px WEBP q85) of 1080p, 300-frame H.264:
 * - for videos Atelier encodes itself: the thumbnail made from the middle frame in memory
 *   (the resize and encode encodeMp4 adds), against OpenCV seeking the file encodeMp4 wrote;
 * - for foreign videos: `midFrameThumbnail` (bundled ffmpeg 4.1: input seek, one frame) against
 *   seed 000's OpenCV code (`bench/reference/opencv_mid_frame.py`) on the same file, with the
 *   other decoders measured beside it (thread counts, Debian's ffmpeg when installed).
 * Medians of 5 each after a warm-up. Atelier's seek includes spawning ffmpeg; OpenCV's time is
 * the seed's seek + read + resize + encode inside an already-running Python.
 */
export async function benchMidFrameThumbnail(): Promise<MidFrameThumbnailBench> {
  const own = await ownVideo();
  const ownFromMemoryMs = await time(() => thumbnailFromRgb(own.middle, W, H));
  const file = await foreignVideo();
  const probe = await probeVideo(file);
  const probeMs = await time(() => probeVideo(file));
  const { args } = midFrameArgs(file, probe);
  const seek = (binary: string, threads: string | undefined) => async () => {
    // midFrameArgs sets -threads itself (one per core); a candidate replaces it, or drops it to
    // leave the choice to that ffmpeg.
    const at = args.indexOf('-threads');
    const own = [...args.slice(0, at), ...args.slice(at + 2)];
    const { stdout } = await runTool(binary, threads === undefined ? own : ['-threads', threads, ...own]);
    await makeThumbnail(stdout);
  };
  const candidates: { label: string; fn: () => Promise<unknown> }[] = [
    { label: 'midFrameThumbnail', fn: () => midFrameThumbnail(file, probe) },
    { label: 'bundled ffmpeg 4.1, its own thread count (cores + 1)', fn: seek(ffmpegPath, undefined) },
    ...['1', '2'].map((threads) => ({ label: `bundled ffmpeg 4.1, -threads ${threads}`, fn: seek(ffmpegPath, threads) })),
    ...(existsSync(SYSTEM_FFMPEG) ? [{ label: 'Debian ffmpeg (/usr/bin/ffmpeg), default threads', fn: seek(SYSTEM_FFMPEG, undefined) }] : []),
  ];
  // Interleaved round by round, so a burst of load elsewhere hits every candidate alike.
  for (const { fn } of candidates) await fn();
  const times = candidates.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, { fn }] of candidates.entries()) {
      const started = performance.now();
      await fn();
      times[i]!.push(performance.now() - started);
    }
  }
  const atelierMs = median(times[0]!);
  const options: MidFrameOption[] = candidates.slice(1).map(({ label }, i) => ({ label, ms: median(times[i + 1]!) }));
  const probeNote = `ffprobe for the frame count adds ${probeMs.toFixed(0)} ms`;
  const opencv = await opencvReference(file);
  const ownOpencv = await opencvReference(own.file);
  const ownOpencvMs = 'ms' in ownOpencv ? ownOpencv.ms : undefined;
  if ('note' in opencv) return { ownFromMemoryMs, ownOpencvMs, atelierMs, opencvMs: undefined, options, note: `${opencv.note}; ${probeNote}` };
  return { ownFromMemoryMs, ownOpencvMs, atelierMs, opencvMs: opencv.ms, options, note: `OpenCV ${opencv.version}: ${opencv.openMs.toFixed(0)} ms including open + frame count; ${probeNote}` };
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
