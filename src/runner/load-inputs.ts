import type { GenerateInputs } from '../backends/backend.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Storage } from '../storage/storage.js';

/**
 * Reads a job's held input images (small, validated at submission) into memory, so backends
 * get bytes and never see storage.
 */
export async function loadInputs(storage: Storage, spec: JobSpec): Promise<GenerateInputs> {
  const read = async (key: string | undefined) => {
    if (key === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const [reference, start, end, guidance, controlnet] = await Promise.all([
    read(spec.reference?.key),
    read(spec.startImage?.key),
    read(spec.endImage?.key),
    Promise.all((spec.guidanceImages ?? []).map((image) => read(image.key) as Promise<Buffer>)),
    Promise.all((spec.controlnet ?? []).map((unit) => read(unit.image.key) as Promise<Buffer>)),
  ]);
  return {
    ...(reference ? { reference } : {}),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(guidance.length > 0 ? { guidance } : {}),
    ...(controlnet.length > 0 ? { controlnet } : {}),
  };
}
