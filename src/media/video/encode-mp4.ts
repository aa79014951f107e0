import { rm } from 'node:fs/promises';
import { runFfmpeg } from './ffmpeg.js';

export interface EncodeMp4Options {
  /** Even, as yuv420p needs (the renderer uses multiples of 8). */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Output path; overwritten. Removed again if encoding fails or is aborted. */
  readonly file: string;
  readonly signal?: AbortSignal;
}

/**
 * x264 threads, fixed: x264 is bit-exact for a given thread count, so a fixed count makes the
 * same frames give the same MP4 bytes on any machine (its default, one per core, would not).
 */
const X264_THREADS = 2;

/**
 * Encodes raw RGB frames (`width * height * 3` bytes each, in order) into an H.264 MP4 that
 * browsers play: yuv420p, CRF 20, `+faststart` so playback starts before the download ends.
 * Frames are piped into ffmpeg's stdin as they are produced, awaiting 'drain', so memory holds
 * a few frames however long the video. Bit-exact flags keep version strings out of the file.
 *
 * @throws Error when a frame has the wrong size or ffmpeg fails (with its last stderr lines);
 *   the signal's reason when aborted; whatever `frames` throws. ffmpeg has exited either way.
 * @example await encodeMp4(renderFrames(), { width: 832, height: 480, fps: 16, file: '/tmp/job/0.mp4', signal })
 */
export async function encodeMp4(frames: AsyncIterable<Buffer>, opts: EncodeMp4Options): Promise<void> {
  const { width, height, fps, file } = opts;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width % 2 === 0 && height % 2 === 0)) {
    throw new Error(`Expected even positive integer dimensions for yuv420p but received ${width}x${height}`);
  }
  if (!(Number.isFinite(fps) && fps > 0)) throw new Error(`Expected a positive frame rate but received ${fps}`);
  const frameBytes = width * height * 3;
  async function* checked(): AsyncGenerator<Buffer> {
    let index = 0;
    for await (const frame of frames) {
      if (frame.length !== frameBytes) throw new Error(`Expected frame ${index} to be ${frameBytes} bytes (${width}x${height} RGB) but received ${frame.length}`);
      index += 1;
      yield frame;
    }
  }
  // prettier-ignore
  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-',
    '-an', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-crf', '20', '-threads', String(X264_THREADS),
    '-movflags', '+faststart', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1',
    file,
  ];
  try {
    await runFfmpeg(args, { stdin: checked(), ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
