import type { GenerateInputs } from '../backends/backend.js';
import { mapSpecInputs } from '../jobs/conditioning.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Storage } from '../storage/storage.js';

/**
 * Reads a job's held input images (small, validated at submission) into memory, so backends
 * get bytes and never see storage.
 */
export async function loadInputs(storage: Storage, spec: JobSpec): Promise<GenerateInputs> {
  return mapSpecInputs(spec, async (key) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
}
