import { randomInt, randomUUID } from 'node:crypto';
import type { JobRow, UserRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { GenerationRequest } from '../jobs/generation-request.js';
import { MAX_SEED, type InputImage, type JobSpec } from '../jobs/job-spec.js';
import { storageKeys } from '../storage/keys.js';
import { admit, type AdmissionContext } from './admission.js';
import type { JobServiceDeps } from './job-service.js';
import { queueRecorded } from './queue-recorded.js';

export interface RerunOptions {
  /** Another seed for the new run; `-1` draws a random one. Default: the recorded seed. */
  readonly seed?: number;
}

type HeldRole = Parameters<typeof storageKeys.jobInput>[2];

/**
 * Re-runs a recorded run as a new one: the same frozen spec, the recorded seed (or
 * `options.seed`), the model's current backend. The new run belongs to `user` (the owner, or
 * an admin re-running someone's run) and is queued like any other: admission checks (moderation,
 * rate limits) apply, it renders (the prompt cache is not consulted, so a rerun always renders
 * again; its result is cached as usual), and it holds its own copies of the input images.
 *
 * Inputs come from the old run's held copies while retention keeps them; once they are gone,
 * from the original upload or asset if `user` still has it with the same bytes (SHA-256);
 * otherwise the rerun is refused with 409 `inputs_expired` naming the input.
 *
 * @example const job = await rerun(user, await jobService.getForUser(user, runId), { seed: 7 })
 */
export function createRerun(deps: JobServiceDeps) {
  const clock = deps.clock ?? Date.now;

  return async function rerun(user: UserRow, source: JobRow, options: RerunOptions = {}): Promise<JobRow> {
    const spec = JSON.parse(source.spec) as JobSpec;
    const model = deps.registry.resolve(spec.model);
    if (!deps.backends.has(model.backend)) throw new AtelierError('unknown_model', `Model '${model.name}' has no configured backend`, { field: 'model' });
    if (!model.modes.includes(spec.mode)) throw new AtelierError('capability_unsupported', `Model '${model.name}' no longer takes ${spec.mode} jobs`, { field: 'model' });
    const context: AdmissionContext = {
      user,
      model,
      request: { prompt: spec.prompt, negative_prompt: spec.negativePrompt, model: spec.model } as GenerationRequest,
      prompt: spec.prompt,
      negativePrompt: spec.negativePrompt,
    };
    const guard = await admit(deps.admission ?? [], context);

    const jobId = randomUUID();
    const random = options.seed === -1;
    const seed = options.seed === undefined ? spec.seed : random ? randomInt(0, MAX_SEED) : options.seed;
    const written: string[] = [];
    try {
      const inputs = await holdInputsAgain(user, jobId, spec, written);
      const finalSpec: JobSpec = Object.freeze({ ...spec, ...inputs, seed, seedFixed: !random });
      const now = clock();
      const job: JobRow = {
        // Columns this service does not set (added by later features) carry over from the source.
        ...source,
        id: jobId,
        user_id: user.id,
        mode: finalSpec.mode,
        model: model.name,
        backend: model.backend,
        status: 'queued',
        spec: JSON.stringify(finalSpec),
        seed,
        progress: 0,
        progress_step: 0,
        progress_total: finalSpec.numFrames ?? finalSpec.steps * finalSpec.numImages,
        attempts: 0,
        max_attempts: deps.maxAttempts,
        lease_owner: null,
        lease_expires_at: null,
        error_code: null,
        error_message: null,
        idempotency_key: null,
        request_hash: null,
        created_at: now,
        started_at: null,
        finished_at: null,
        updated_at: now,
        cached: 0,
        cached_from: null,
        cost: deps.costOf ? JSON.stringify(deps.costOf(finalSpec, model)) : null,
      };
      const recorded = await deps.jobs.insert(job, guard);
      // Recorded: from here on the copies are the row's.
      written.length = 0;
      await queueRecorded(deps, job, recorded);
      return job;
    } finally {
      if (written.length > 0) await Promise.allSettled(written.map((key) => storage().delete(key)));
    }
  };

  function storage() {
    const store = deps.inputs?.storage ?? deps.storage;
    if (!store) throw new AtelierError('capability_unsupported', 'This server does not accept input images');
    return store;
  }

  /** The new run's own copies of the old run's input images, as spec fields. */
  async function holdInputsAgain(user: UserRow, jobId: string, spec: JobSpec, written: string[]): Promise<Partial<JobSpec>> {
    const hold = async (image: InputImage, role: HeldRole, field: string): Promise<InputImage> => {
      const key = storageKeys.jobInput(user.id, jobId, role, image.format === 'jpeg' ? 'jpg' : image.format);
      written.push(key);
      if (!(await copyIfPresent(image.key, key)) && !(await copyIfPresent(await originalOf(user, image, field), key))) throw expired(image, field);
      return { ...image, key };
    };
    const held: { -readonly [K in keyof JobSpec]?: JobSpec[K] } = {};
    if (spec.reference) held.reference = await hold(spec.reference, 'reference', 'reference_image');
    if (spec.startImage) held.startImage = await hold(spec.startImage, 'start', 'start_image');
    if (spec.endImage) held.endImage = await hold(spec.endImage, 'end', 'end_image');
    if (spec.guidanceImages?.length) {
      const guidance: InputImage[] = [];
      for (const [i, image] of spec.guidanceImages.entries()) guidance.push(await hold(image, `guidance-${i}`, `guidance_images[${i}]`));
      held.guidanceImages = guidance;
    }
    if (spec.controlnet?.length) {
      const units = [];
      for (const [i, unit] of spec.controlnet.entries()) units.push({ ...unit, image: await hold(unit.image, `controlnet-${i}`, `controlnet[${i}].image`) });
      held.controlnet = units;
    }
    return held;
  }

  /** Copies `from` to `to`; false when `from` no longer exists (retention deleted the held copy). */
  async function copyIfPresent(from: string, to: string): Promise<boolean> {
    try {
      await storage().copy(from, to);
      return true;
    } catch (error) {
      if (error instanceof AtelierError && error.code === 'not_found') return false;
      throw error;
    }
  }

  function expired(image: InputImage, field: string): AtelierError {
    const origin = 'uploadId' in image.source ? 'upload' : 'asset';
    return new AtelierError('inputs_expired', `The run's ${field} is no longer held (retention deleted it) and its ${origin} is gone: submit the job again with a new image`, { field });
  }

  /** The key of the upload or asset the image came from, if `user` still has it with the same bytes. */
  async function originalOf(user: UserRow, image: InputImage, field: string): Promise<string> {
    const uploads = deps.inputs?.uploads;
    if (!uploads) throw expired(image, field);
    const ref = 'uploadId' in image.source ? { upload_id: image.source.uploadId } : { asset_id: image.source.assetId };
    const original = await uploads.resolveImage(user, ref, field).catch((error: unknown) => {
      if (error instanceof AtelierError && (error.code === 'not_found' || error.code === 'upload_not_ready')) return undefined;
      throw error;
    });
    if (!original || original.sha256 !== image.sha256) throw expired(image, field);
    return original.key;
  }
}

export type Rerun = ReturnType<typeof createRerun>;
