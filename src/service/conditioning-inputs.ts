import type { UserRow } from '../db/schema.js';
import type { ConditioningImages } from '../jobs/conditioning.js';
import type { GenerationRequest, ImageRef } from '../jobs/generation-request.js';
import type { InputImage } from '../jobs/job-spec.js';
import { storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';

type ResolveImage = (user: UserRow, ref: ImageRef, field: string) => Promise<InputImage>;

/**
 * Resolves a request's guidance images and ControlNet control images the way reference
 * images are resolved: uploads and assets of the same user, or public URLs fetched
 * SSRF-safe — each validated by magic bytes and pixel limits. Undefined when the request
 * has neither.
 */
export async function resolveConditioningImages(user: UserRow, request: GenerationRequest, resolve: ResolveImage): Promise<ConditioningImages | undefined> {
  const guidanceRefs = request.guidance_images ?? [];
  const units = request.controlnet ?? [];
  if (guidanceRefs.length === 0 && units.length === 0) return undefined;
  const guidance: InputImage[] = [];
  for (const [i, ref] of guidanceRefs.entries()) guidance.push(await resolve(user, ref, `guidance_images[${i}]`));
  const controlnet: InputImage[] = [];
  for (const [i, unit] of units.entries()) controlnet.push(await resolve(user, unit.image, `controlnet[${i}].image`));
  return { guidance, controlnet };
}

/**
 * Copies the images to the job's own `job-inputs/{userId}/{jobId}/guidance-{i}` and
 * `controlnet-{i}` keys (seed 001), so deleting the upload or asset cannot starve the job;
 * the retention sweep removes them with the job's other inputs.
 */
export async function holdConditioningImages(storage: Storage, userId: string, jobId: string, images: ConditioningImages, written: string[] = []): Promise<ConditioningImages> {
  const hold = async (image: InputImage, role: `guidance-${number}` | `controlnet-${number}`): Promise<InputImage> => {
    const key = storageKeys.jobInput(userId, jobId, role, image.format === 'jpeg' ? 'jpg' : image.format);
    written.push(key);
    await storage.copy(image.key, key);
    return { ...image, key };
  };
  const guidance: InputImage[] = [];
  for (const [i, image] of images.guidance.entries()) guidance.push(await hold(image, `guidance-${i}`));
  const controlnet: InputImage[] = [];
  for (const [i, image] of images.controlnet.entries()) controlnet.push(await hold(image, `controlnet-${i}`));
  return { guidance, controlnet };
}

/** True for refs a prompt-cache lookup cannot take (URLs are fetched, not looked up). */
export function conditioningHasUrl(request: GenerationRequest): boolean {
  return [...(request.guidance_images ?? []), ...(request.controlnet ?? []).map((u) => u.image)].some((ref) => 'url' in ref);
}
