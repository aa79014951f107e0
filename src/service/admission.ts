import type { ModelConfig } from '../backends/model-registry.js';
import type { JobCounts } from '../db/repos/job-counts-repo.js';
import type { InsertGuard } from '../db/repos/jobs-repo.js';
import type { UserRow } from '../db/schema.js';
import type { GenerationRequest } from '../jobs/generation-request.js';

/**
 * What an admission check sees: the caller, the model and the texts a backend would get.
 * Checks run before input images are fetched or stored, so a refusal costs nothing.
 */
export interface AdmissionContext {
  readonly user: UserRow;
  readonly model: ModelConfig;
  readonly request: GenerationRequest;
  /** Trimmed prompt ('' when none). */
  readonly prompt: string;
  /** Trimmed negative prompt, undefined when empty. */
  readonly negativePrompt: string | undefined;
}

/**
 * A gate every job passes before it is recorded (moderation, rate limits): it resolves to
 * let the job in, or throws an AtelierError (422, 429…) that reaches the client. A refused
 * job never reaches a backend and leaves nothing behind.
 */
export interface AdmissionCheck {
  (context: AdmissionContext): Promise<void>;
  /**
   * For checks decided on recorded jobs (rate limits): the same decision taken again inside
   * the transaction that records the job, after the user's row is locked (`counts` are read
   * through that transaction). The first call refuses early, before images are fetched; this one makes
   * the decision and the insert one step, so simultaneous requests — on one node or on
   * several sharing PostgreSQL — cannot all pass on the same count.
   */
  readonly recheck?: (context: AdmissionContext, counts: JobCounts) => Promise<void>;
  /**
   * Whether `recheck` has anything to decide for this job (a user without limits has not): when
   * no check needs it, the job is recorded without the transaction that locks the user's row.
   * Absent means always.
   */
  readonly rechecks?: (context: AdmissionContext) => boolean;
}

/**
 * Runs every admission check on a job about to be recorded, and returns the guard that takes
 * the checks' decisions again inside the inserting transaction (rate limits); undefined when no
 * check asks for it for this job (no limits configured, or an exempt admin), which spares the
 * transaction and the user-row lock.
 *
 * @throws AtelierError from the first check that refuses the job.
 */
export async function admit(checks: readonly AdmissionCheck[], context: AdmissionContext): Promise<InsertGuard | undefined> {
  for (const check of checks) await check(context);
  const rechecks = checks.flatMap((check) => (check.recheck && (check.rechecks?.(context) ?? true) ? [check.recheck] : []));
  if (rechecks.length === 0) return undefined;
  return async (counts) => {
    for (const recheck of rechecks) await recheck(context, counts);
  };
}
