import { stat } from 'node:fs/promises';
import { runFfprobe } from './ffmpeg.js';

/** What SPEC §4 records about a video; snake_case because it is stored and served as is. */
export interface VideoProbe {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frame_count: number;
  readonly duration_seconds: number;
  /** ffprobe's codec name, e.g. `h264`. */
  readonly codec: string;
  readonly file_size_bytes: number;
}

interface FfprobeJson {
  streams?: { codec_name?: string; width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; nb_frames?: string; nb_read_frames?: string; duration?: string }[];
  format?: { duration?: string };
}

/** "30000/1001" → 29.97…; "0/0" (unknown) → NaN. */
function parseRate(rate: string | undefined): number {
  const [num, den] = (rate ?? '').split('/').map(Number);
  return den === undefined ? Number(num) : num! / den;
}

async function ffprobeJson(file: string, countFrames: boolean, signal?: AbortSignal): Promise<FfprobeJson> {
  const entries = 'stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,nb_read_frames,duration:format=duration';
  const args = ['-v', 'error', ...(countFrames ? ['-count_frames'] : []), '-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', file];
  const { stdout } = await runFfprobe(args, signal === undefined ? {} : { signal });
  return JSON.parse(stdout.toString('utf8')) as FfprobeJson;
}

/**
 * Describes a video's first video stream with ffprobe. The frame count comes from the
 * container's index (`nb_frames`, instant for MP4); only when the container lacks it are the
 * frames counted by decoding (`-count_frames`).
 *
 * @throws Error when the file is missing, not a video, or has no video stream.
 * @example const { width, fps, frame_count } = await probeVideo('/tmp/job/0.mp4')
 */
export async function probeVideo(file: string, opts: { signal?: AbortSignal } = {}): Promise<VideoProbe> {
  const [json, { size }] = await Promise.all([ffprobeJson(file, false, opts.signal), stat(file)]);
  let stream = json.streams?.[0];
  if (stream === undefined) throw new Error(`Expected a video stream in ${file} but found none`);
  let frames = Number(stream.nb_frames);
  if (!(frames > 0)) {
    stream = (await ffprobeJson(file, true, opts.signal)).streams?.[0] ?? stream;
    frames = Number(stream.nb_read_frames);
  }
  const avg = parseRate(stream.avg_frame_rate);
  const fps = Number.isFinite(avg) && avg > 0 ? avg : parseRate(stream.r_frame_rate);
  const duration = Number(json.format?.duration ?? stream.duration);
  return {
    width: stream.width ?? 0,
    height: stream.height ?? 0,
    fps: Math.round(fps * 1000) / 1000,
    frame_count: frames,
    duration_seconds: Number.isFinite(duration) ? duration : frames / fps,
    codec: stream.codec_name ?? 'unknown',
    file_size_bytes: size,
  };
}
