import { rm } from 'node:fs/promises';
import type { Thumbnail } from '../image/thumbnail.js';
import { runFfmpeg } from './ffmpeg.js';
import { thumbnailFromRgb } from './frame-thumbnail.js';
import { midFrameIndex } from './mid-frame-thumbnail.js';

export interface EncodeMp4Options {
  /** Even, as yuv420p needs (the renderer uses multiples of 8). */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Output path; overwritten. Removed again if encoding fails or is aborted. */
  readonly file: string;
  readonly signal?: AbortSignal;
  /**
   * How many frames `frames` will yield, when the caller knows. Then the middle frame's
   * thumbnail is made from memory as that frame goes by (issue #17: ~8 ms instead of seeking
   * and decoding the written file) and returned. The producer is not asked for the next frame
   * until the middle one has been read, so it may reuse its buffers as usual.
   */
  readonly frameCount?: number;
}

export interface EncodedMp4 {
  /** The middle frame's thumbnail (as `midFrameThumbnail` would pick it), when `frameCount` was given and matched. */
  readonly thumbnail?: Thumbnail;
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
 * With `frameCount`, the middle frame's thumbnail comes back too, made from memory.
 *
 * @throws Error when a frame has the wrong size or ffmpeg fails (with its last stderr lines);
 *   the signal's reason when aborted; whatever `frames` throws. ffmpeg has exited either way.
 * @example const { thumbnail } = await encodeMp4(renderFrames(), { width: 832, height: 480, fps: 16, frameCount: 48, file: '/tmp/job/0.mp4', signal })
 */
export async function encodeMp4(frames: AsyncIterable<Buffer>, opts: EncodeMp4Options): Promise<EncodedMp4> {
  const { width, height, fps, file } = opts;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width % 2 === 0 && height % 2 === 0)) {
    throw new Error(`Expected even positive integer dimensions for yuv420p but received ${width}x${height}`);
  }
  if (!(Number.isFinite(fps) && fps > 0)) throw new Error(`Expected a positive frame rate but received ${fps}`);
  const frameBytes = width * height * 3;
  const middle = opts.frameCount === undefined ? undefined : midFrameIndex(opts.frameCount);
  let thumbnail: Thumbnail | undefined;
  let count = 0;
  async function* checked(): AsyncGenerator<Buffer> {
    for await (const frame of frames) {
      if (frame.length !== frameBytes) throw new Error(`Expected frame ${count} to be ${frameBytes} bytes (${width}x${height} RGB) but received ${frame.length}`);
      // Read by libvips while the frame goes to ffmpeg. No copy (6 MB at 1080p costs more
      // than the thumbnail): the producer stays paused until it has been read, below.
      const pending = count === middle ? thumbnailFromRgb(frame, width, height).catch(() => undefined) : undefined;
      count += 1;
      yield frame;
      // Asked for the next frame: only now may the producer reuse this one's buffer. A failed
      // thumbnail leaves none, and the video is thumbnailed by seeking as any other.
      if (pending !== undefined) thumbnail = await pending;
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
    // A source that yielded another count than announced: the middle frame was not the middle.
    return thumbnail === undefined || count !== opts.frameCount ? {} : { thumbnail };
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
