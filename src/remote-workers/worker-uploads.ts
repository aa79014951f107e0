import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtelierError } from '../errors/atelier-error.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { JobRow } from '../db/schema.js';
import type { UploadResult } from '../api/schemas/worker-protocol.js';
import type { UploadAuth } from './upload-auth.js';
import { expectedOutputs, stagingKey, UploadCheck } from './staging.js';
import { uploadClaim, type WorkerContext } from './worker-context.js';

/**
 * Staged uploads: one asset's bytes, authorized by the attempt's lease token or a presigned
 * URL, checked while they stream and kept under the attempt's staging key until completion.
 */
export function createWorkerUploads(ctx: WorkerContext) {
  const { deps, leaseMs, maxUploadBytes } = ctx;
  const { findJob, attemptFor, leaseLost } = ctx;

  async function receiveUpload(jobId: string, index: number, auth: UploadAuth, body: Readable): Promise<UploadResult> {
    let job: JobRow;
    let attempt: number;
    if (auth.kind === 'lease') {
      // On the claiming node, the attempt its claim began (no read); the queue confirms the lease either way.
      const held = await attemptFor(jobId, auth.leaseToken);
      if (!(await deps.pipeline.confirmLease(held, leaseMs))) throw await leaseLost(jobId, held.lease.attempt);
      job = held.job;
      attempt = held.lease.attempt;
    } else {
      // A presigned URL proves no lease: the job's row as it is now decides.
      job = await findJob(jobId);
      if (!deps.uploadSigner || !deps.uploadSigner.verify(uploadClaim(jobId, auth.attempt, index), auth.expires, auth.signature)) {
        throw new AtelierError('signature_invalid', 'The presigned upload URL is invalid or has expired');
      }
      attempt = auth.attempt;
    }
    if (job.status !== 'running' || job.attempts !== attempt) throw await leaseLost(jobId, attempt, job);
    const expected = expectedOutputs(JSON.parse(job.spec) as JobSpec);
    if (!(index < expected.count)) {
      throw new AtelierError('invalid_parameter', `Expected an asset index 0–${expected.count - 1} (the job makes ${expected.count} ${expected.type}${expected.count > 1 ? 's' : ''}) but received ${index}`, { field: 'index' });
    }
    const key = stagingKey(jobId, attempt, index, expected.ext);
    const check = new UploadCheck(expected.ext, maxUploadBytes);
    // Images are also kept in memory for this node's callback (held-uploads.ts); videos are not.
    const held = expected.type === 'image' ? ctx.heldUploads.begin(jobId, key) : undefined;
    const stored = held ? held.tap : check;
    let ok = false;
    // Listening on every stream from the start: the check may fail before storage reads.
    const feeding = (held ? pipeline(body, check, held.tap) : pipeline(body, check)).catch(() => undefined);
    try {
      await deps.storage.put(key, stored, { contentType: expected.contentType });
      ok = !check.failure;
    } catch (error) {
      throw check.failure ?? error;
    } finally {
      await feeding;
      held?.end(ok);
    }
    if (check.failure) throw check.failure;
    return { index, url: key, bytes: check.bytes, sha256: check.sha256 };
  }

  return { receiveUpload };
}
