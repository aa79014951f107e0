import type { Attempt } from '../runner/attempt-pipeline.js';
import { rememberBounded } from '../lib/remember-bounded.js';

/**
 * The attempts this node handed to workers, as `begin` left them (the row it wrote and read
 * back in one statement, the spec parsed, the queue's lease), so a completion callback that
 * comes back to the node that made the claim does not read the job again (issue #13: one
 * statement of the seven a remote job cost). Only a hint: a callback whose lease token is not
 * the one remembered, one sent to another node, or one after a restart reads the row as before.
 *
 * Nothing is decided on the remembered row alone. Whether the attempt still holds the job is
 * what the queue says when the callback confirms the lease, and the commit is guarded by the
 * attempt in the database; a job canceled or re-leased since the claim is refused there
 * (`lease_lost`), exactly as when the row was read again.
 *
 * Bounded: an attempt is forgotten when its callback is answered, and the oldest go first
 * beyond `maxEntries` (attempts whose worker vanished, callbacks answered by another node).
 */
export interface HeldAttempts {
  remember(attempt: Attempt): void;
  /** The attempt this lease token names, if this node claimed it; undefined otherwise. */
  find(jobId: string, attempt: number, token: string): Attempt | undefined;
  forget(jobId: string): void;
}

export function createHeldAttempts(maxEntries: number): HeldAttempts {
  const held = new Map<string, Attempt>();
  return {
    remember(attempt) {
      rememberBounded(held, attempt.job.id, attempt, maxEntries);
    },
    find(jobId, attempt, token) {
      const found = held.get(jobId);
      return found && found.lease.attempt === attempt && found.lease.token === token ? found : undefined;
    },
    forget(jobId) {
      held.delete(jobId);
    },
  };
}
