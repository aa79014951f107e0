import { join } from 'node:path';
import sharp from 'sharp';
import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { seedForImage, type JobSpec } from '../../jobs/job-spec.js';
import { probeVideo } from '../../media/video/probe-video.js';
import type { GeneratedOutput } from '../backend.js';
import type { ComfyFileRef, ComfyHttpClient, HistoryEntry } from './comfyui-http.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface OutputFile extends ComfyFileRef {
  readonly video: boolean;
}

/**
 * The files a history entry lists, in node order. Previews (`type: temp`, from PreviewImage
 * nodes) count only when the graph saved nothing else. Video nodes (SaveVideo) list their
 * file under `images` with `animated: [true]`.
 */
function listFiles(entry: HistoryEntry): OutputFile[] {
  const files = Object.values(entry.outputs ?? {}).flatMap((output) =>
    (output?.images ?? []).map((file) => ({ ...file, video: output?.animated?.[0] === true || /\.mp4$/i.test(file.filename) })),
  );
  const saved = files.filter((file) => file.type !== 'temp');
  return saved.length > 0 ? saved : files;
}

async function readImage(http: ComfyHttpClient, file: OutputFile, signal: AbortSignal) {
  const data = await http.view(file, signal);
  if (!data.subarray(0, 8).equals(PNG_SIGNATURE)) {
    // A format is a property of the workflow's save node: a retry would bring the same.
    throw new UnrecoverableError(`ComfyUI output ${file.filename} is not a PNG (starts ${data.subarray(0, 8).toString('hex') || 'empty'}); save images with SaveImage`, 'backend_failed');
  }
  try {
    const { width, height } = await sharp(data).metadata();
    if (!width || !height) throw new Error('no dimensions');
    return { data, width, height };
  } catch (cause) {
    // A PNG signature on undecodable bytes is a truncated transfer: worth another attempt.
    throw new RetryableError(`ComfyUI output ${file.filename} is a damaged PNG: ${(cause as Error).message}`, 'backend_failed', { cause });
  }
}

/**
 * Fetches a finished prompt's outputs with GET /view: PNGs become GeneratedImages (size read
 * from the PNG header), MP4s are streamed into `workDir` and probed. A prompt makes one output:
 * output `firstIndex` of the job, which carries seed + that index.
 *
 * @throws UnrecoverableError when the entry lists no output or more than one, or an output has the wrong format;
 *   RetryableError when a listed file is missing (404) or damaged.
 */
export async function collectOutputs(
  http: ComfyHttpClient,
  entry: HistoryEntry,
  opts: { readonly spec: JobSpec; readonly firstIndex: number; readonly signal: AbortSignal; readonly workDir?: string },
): Promise<GeneratedOutput[]> {
  const files = listFiles(entry);
  if (files.length === 0) {
    throw new UnrecoverableError('ComfyUI finished the prompt but its history lists no output images; does the workflow end in a SaveImage or SaveVideo node?', 'backend_failed');
  }
  if (files.length > 1) {
    // Each prompt makes one output (image i is its own prompt with its own seed); more is the
    // workflow's shape, which every attempt would repeat.
    throw new UnrecoverableError(
      `ComfyUI's workflow saved ${files.length} outputs for one prompt where Atelier expects one: keep a single SaveImage or SaveVideo node and bind batch_size (or set it to 1)`,
      'backend_failed',
    );
  }
  const outputs: GeneratedOutput[] = [];
  for (const file of files) {
    const index = opts.firstIndex + outputs.length;
    const seed = seedForImage(opts.spec, index);
    if (!file.video) {
      outputs.push({ kind: 'image', index, seed, ...(await readImage(http, file, opts.signal)) });
      continue;
    }
    if (!/\.mp4$/i.test(file.filename)) throw new UnrecoverableError(`ComfyUI video output ${file.filename} is not an MP4; save videos with SaveVideo (format mp4, codec h264)`, 'backend_failed');
    if (opts.workDir === undefined) throw new UnrecoverableError('A ComfyUI video output needs a work directory, and the job has none', 'backend_failed');
    const path = join(opts.workDir, `comfyui-${index}.mp4`);
    await http.download(file, path, opts.signal);
    const probe = await probeVideo(path, { signal: opts.signal }).catch((cause: unknown) => {
      throw new UnrecoverableError(`ComfyUI video output ${file.filename} is not a readable video: ${(cause as Error).message}`, 'backend_failed', { cause });
    });
    outputs.push({ kind: 'video', index, seed, width: probe.width, height: probe.height, fps: probe.fps, frameCount: probe.frame_count, file: path });
  }
  return outputs;
}
