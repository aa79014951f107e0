import path from 'node:path';
import type { GenerateContext, GeneratedVideo } from '../backend.js';
import { CanceledError, UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { appliedLoras } from '../../jobs/loras.js';
import { centerCropTo } from '../../media/image/center-crop.js';
import type { Thumbnail } from '../../media/image/thumbnail.js';
import { encodeMp4 } from '../../media/video/encode-mp4.js';
import { decodeLatentToRgb } from './latent-decode.js';
import { guidedPrediction } from './latent-render.js';
import type { LivePreviews } from './live-preview.js';
import { tintForLoras } from './lora-tint.js';
import { deriveSeed } from './prng.js';
import { stampPreviewMark } from './preview-mark.js';
import { promptTarget } from './prompt-target.js';
import { cameraPath, composeFrame } from './video-motion.js';

/** Video defaults when the spec leaves them out: 3 s at 16 fps, like Wan's previews. */
export const DEFAULT_NUM_FRAMES = 48;
export const DEFAULT_FPS = 16;

const SALT_SECOND_SCENE = 4;
/**
 * Without an end image, an image-to-video drifts only halfway toward the prompt's scene, so
 * the start image stays recognisable throughout (it is the subject being animated).
 */
const START_IMAGE_DRIFT = 0.5;

const smoothstep = (t: number) => t * t * (3 - 2 * t);

/** A seeded scene of the prompt as raw RGB: the picture text-to-image converges to, tinted by the LoRAs as images are. */
async function promptScene(spec: JobSpec, seed: number): Promise<Buffer> {
  const target = tintForLoras(appliedLoras(spec))(promptTarget(spec, seed));
  const guided = { ...target, data: guidedPrediction(target, spec.cfgScale) };
  return decodeLatentToRgb(guided, spec.width, spec.height);
}

async function inputFrame(bytes: Buffer | undefined, name: 'start' | 'end', spec: JobSpec): Promise<Buffer> {
  if (bytes === undefined) throw new UnrecoverableError(`Mode '${spec.mode}' needs a ${name} image but the job has none`, 'invalid_parameter');
  try {
    return await centerCropTo(bytes, spec.width, spec.height);
  } catch (error) {
    throw new UnrecoverableError(`The ${name} image could not be decoded: ${(error as Error).message}`, 'invalid_image', { cause: error });
  }
}

/**
 * Renders a video job to `{workDir}/0.mp4`. Frame 0 is the center-cropped start image (i2v,
 * ti2v) or a seeded scene of the prompt (t2v); the frames then cross-fade toward the end image
 * when there is one (ending exactly on it), or else toward a second seeded scene of the prompt,
 * while a seeded camera pushes in and pans. Every frame carries the PREVIEW mark (outside the
 * camera's motion, so it stays put). Frames are produced one at a time as ffmpeg takes
 * them, one progress event each; the same spec and inputs give the same MP4 bytes. `previews`
 * (when the caller wants live previews) is offered each frame as it is rendered.
 *
 * @throws UnrecoverableError without a work directory or a required input; CanceledError on abort
 *   (ffmpeg is killed and the partial file removed first).
 */
export async function renderVideo(spec: JobSpec, ctx: GenerateContext, previews?: LivePreviews): Promise<GeneratedVideo> {
  if (ctx.workDir === undefined) throw new UnrecoverableError('The preview renderer needs a work directory to write a video', 'job_failed');
  if (ctx.signal.aborted) throw new CanceledError();
  const { width, height } = spec;
  const frameCount = spec.numFrames ?? DEFAULT_NUM_FRAMES;
  const fps = spec.fps ?? DEFAULT_FPS;
  const fromImage = spec.mode !== 't2v';
  const endBytes = fromImage ? ctx.inputs?.end : undefined;

  const first = fromImage ? await inputFrame(ctx.inputs?.start, 'start', spec) : await promptScene(spec, spec.seed);
  const last = endBytes !== undefined ? await inputFrame(endBytes, 'end', spec) : await promptScene(spec, deriveSeed(spec.seed, SALT_SECOND_SCENE));
  const drift = fromImage && endBytes === undefined ? START_IMAGE_DRIFT : 1;
  const camera = cameraPath(spec.seed, endBytes !== undefined);

  async function* frames(): AsyncGenerator<Buffer> {
    for (let index = 0; index < frameCount; index += 1) {
      if (ctx.signal.aborted) throw new CanceledError();
      const t = frameCount === 1 ? 0 : index / (frameCount - 1);
      const frame = stampPreviewMark(composeFrame(first, last, drift * smoothstep(t), camera(t), width, height), width, height);
      ctx.onProgress({ step: index + 1, totalSteps: frameCount });
      // A fresh buffer per frame that nothing writes to again, so no copy is needed.
      previews?.offer(index + 1, frameCount, () => ({ data: frame, width, height }));
      yield frame;
    }
  }

  const file = path.join(ctx.workDir, '0.mp4');
  let thumbnail: Thumbnail | undefined;
  try {
    // The frame count lets the encoder keep the middle frame's thumbnail, so storing the
    // video needs no seek into the file it just wrote.
    ({ thumbnail } = await encodeMp4(frames(), { width, height, fps, frameCount, file, signal: ctx.signal }));
  } catch (error) {
    // ffmpeg may report the abort before the frame loop does; either way it is a cancel.
    if (ctx.signal.aborted) throw new CanceledError();
    throw error;
  }
  return { kind: 'video', index: 0, seed: spec.seed, width, height, fps, frameCount, file, ...(thumbnail === undefined ? {} : { thumbnail }) };
}
