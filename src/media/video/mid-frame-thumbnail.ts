import { availableParallelism } from 'node:os';
import { makeThumbnail, THUMBNAIL_MAX_EDGE, type Thumbnail } from '../image/thumbnail.js';
import { runFfmpeg } from './ffmpeg.js';
import type { VideoProbe } from './probe-video.js';

/**
 * The index of the frame a video's thumbnail shows: the middle one (SPEC §4, seed 000's
 * `total_frames // 2`), which represents a clip better than its often black or static start.
 */
export function midFrameIndex(frameCount: number): number {
  return Math.max(0, Math.floor(frameCount / 2));
}

/**
 * A video's thumbnail from its middle frame: 256 px on the longest edge, WEBP q85, like every
 * image thumbnail. ffmpeg seeks on the input side (`-ss` before `-i`: jump to the keyframe
 * before, then decode forward only to the target — never the whole file) and writes exactly
 * one frame, already shrunk to 256 px, as PNG to a pipe; `makeThumbnail` encodes the WEBP
 * like every image thumbnail.
 *
 * The seek time is half a frame before the middle frame's timestamp: ffmpeg drops frames that
 * start before it, so the first frame kept is exactly the middle one despite float rounding.
 *
 * @throws Error when ffmpeg fails or returns no frame.
 * @example const { data } = await midFrameThumbnail(file, await probeVideo(file))
 */
export async function midFrameThumbnail(
  file: string,
  probe: Pick<VideoProbe, 'frame_count' | 'fps'>,
  opts: { signal?: AbortSignal } = {},
): Promise<Thumbnail> {
  const { args, seconds } = midFrameArgs(file, probe);
  const { stdout } = await runFfmpeg(args, opts.signal === undefined ? {} : { signal: opts.signal });
  if (stdout.length === 0) throw new Error(`ffmpeg returned no frame at ${seconds.toFixed(3)} s of ${file}`);
  return makeThumbnail(stdout);
}

/**
 * ffmpeg's arguments for {@link midFrameThumbnail} (exported for the bench, which runs them
 * with other ffmpeg builds and thread counts): one PNG of the middle frame on stdout.
 */
export function midFrameArgs(file: string, probe: Pick<VideoProbe, 'frame_count' | 'fps'>): { args: string[]; seconds: number } {
  const middle = midFrameIndex(probe.frame_count);
  const seconds = middle === 0 || !(probe.fps > 0) ? 0 : (middle - 0.5) / probe.fps;
  // prettier-ignore
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    // One decoding thread per core. ffmpeg's own choice (cores + 1 frame threads) was 7–20%
    // slower here on 2 cores: each extra frame thread delays the first output by one frame.
    '-threads', String(availableParallelism()),
    '-ss', seconds.toFixed(6), '-i', file,
    '-map', '0:v:0', '-frames:v', '1', '-an',
    // Shrink inside ffmpeg, right after decoding: a 1080p frame never gets encoded to PNG or
    // crosses the pipe at full size. Never enlarges; makeThumbnail then only re-encodes.
    '-vf', `scale='if(gte(iw,ih),min(${THUMBNAIL_MAX_EDGE},iw),-1)':'if(gte(iw,ih),-1,min(${THUMBNAIL_MAX_EDGE},ih))':flags=lanczos`,
    // zlib level 1: the PNG only crosses a pipe, so compressing it harder is wasted time
    '-f', 'image2pipe', '-c:v', 'png', '-compression_level', '1', '-',
  ];
  return { args, seconds };
}
