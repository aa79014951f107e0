import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import type { GenerateInputs } from '../backend.js';
import type { ComfyHttpClient } from './comfyui-http.js';
import type { WorkflowTemplate } from './workflow-template.js';

/** The LoadImage names of a job's uploaded inputs, ready to bind. */
export interface UploadedInputs {
  readonly image?: string;
  readonly start_image?: string;
  readonly end_image?: string;
}

const SLOTS = [
  ['image', 'reference'],
  ['start_image', 'start'],
  ['end_image', 'end'],
] as const;

/**
 * Uploads the inputs the template binds, each center-cropped to the job's size first (the
 * JobSpec contract: the backend crops, and img2img graphs take their size from the image).
 * Files are named by content hash and overwritten, so a reused reference is one file in
 * ComfyUI's input folder rather than one per job.
 *
 * @throws UnrecoverableError when the template needs an input the job does not carry
 *   (`invalid_parameter`) or an input does not decode (`invalid_image`).
 */
export async function uploadInputs(
  http: ComfyHttpClient,
  template: WorkflowTemplate,
  spec: JobSpec,
  inputs: GenerateInputs | undefined,
  signal: AbortSignal,
): Promise<UploadedInputs> {
  const uploaded: Record<string, string> = {};
  for (const [binding, input] of SLOTS) {
    if (template.bindings[binding] === undefined) continue;
    const bytes = inputs?.[input];
    if (bytes === undefined) {
      if (binding === 'end_image') continue; // optional: the template keeps its own frame
      throw new UnrecoverableError(`The ComfyUI workflow '${template.name}' needs a ${input} image but the job has none`, 'invalid_parameter');
    }
    let png: Buffer;
    try {
      png = await sharp(bytes).rotate().resize(spec.width, spec.height, { fit: 'cover', position: 'centre' }).png().toBuffer();
    } catch (cause) {
      // Bytes that do not decode now never will: fail the job instead of retrying it.
      throw new UnrecoverableError(`The ${input} image could not be decoded: ${(cause as Error).message}`, 'invalid_image', { cause });
    }
    const name = `atelier-${createHash('sha256').update(png).digest('hex').slice(0, 24)}.png`;
    uploaded[binding] = await http.uploadImage(png, name, signal);
  }
  return uploaded;
}
