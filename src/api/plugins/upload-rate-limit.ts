import type { UserRow } from '../../db/schema.js';
import { AtelierError } from '../../errors/atelier-error.js';

const MINUTE_MS = 60_000;

export interface UploadRateLimits {
  /** Uploads a user may start per rolling minute; 0 turns it off. */
  readonly perMinute: number;
  /** Uploads a user may have in flight at once; 0 turns it off. */
  readonly concurrent: number;
  /** Admins pass unchecked (the job limits' `rateLimits.exemptAdmins`). */
  readonly exemptAdmins: boolean;
}

export interface UploadRateLimit {
  /**
   * Counts one upload by `user`, or throws a 429 `rate_limited` whose details are
   * `{ retryAfterSeconds, limit, window: 'upload_minute' | 'upload_concurrent' }`. Call the
   * returned function when the upload is done (accepted or refused) to free its concurrent slot.
   */
  acquire(user: UserRow, options?: { readonly concurrent?: boolean }): () => void;
}

/**
 * Per-user limits on uploads, so one user cannot keep the image checks busy for everyone
 * (issue #14 §7). Unlike the job limits these are counted in memory, per node: an upload is a
 * single request, and the counts need not outlive it. Memory stays bounded: a user's entry
 * holds at most `perMinute` timestamps and is dropped once it has none in the window.
 *
 * @example
 * const limit = createUploadRateLimit({ perMinute: 60, concurrent: 4, exemptAdmins: true });
 * const release = limit.acquire(user);
 * try { … } finally { release(); }
 */
export function createUploadRateLimit(limits: UploadRateLimits, clock: () => number = Date.now): UploadRateLimit {
  const started = new Map<string, number[]>();
  const inFlight = new Map<string, number>();

  function recent(userId: string, now: number): number[] {
    const times = (started.get(userId) ?? []).filter((t) => t > now - MINUTE_MS);
    if (times.length === 0) started.delete(userId);
    else started.set(userId, times);
    return times;
  }

  function sweep(now: number): void {
    // Bounded work: only when many users have uploaded recently.
    if (started.size < 1024) return;
    for (const userId of [...started.keys()]) recent(userId, now);
  }

  return {
    acquire(user, options = {}) {
      if (limits.exemptAdmins && user.role === 'admin') return () => {};
      const now = clock();
      sweep(now);
      const countsConcurrent = options.concurrent !== false && limits.concurrent > 0;
      if (countsConcurrent && (inFlight.get(user.id) ?? 0) >= limits.concurrent) {
        throw new AtelierError('rate_limited', `Upload limit reached: ${limits.concurrent} uploads at once. Try again when one finishes.`, {
          details: { retryAfterSeconds: 1, limit: limits.concurrent, window: 'upload_concurrent' },
        });
      }
      if (limits.perMinute > 0) {
        const times = recent(user.id, now);
        if (times.length >= limits.perMinute) {
          const retryAfterSeconds = Math.max(1, Math.ceil((times[0]! + MINUTE_MS - now) / 1000));
          throw new AtelierError('rate_limited', `Upload limit reached: ${limits.perMinute} uploads per minute. Try again in ${retryAfterSeconds} s.`, {
            details: { retryAfterSeconds, limit: limits.perMinute, window: 'upload_minute' },
          });
        }
        started.set(user.id, [...times, now]);
      }
      if (!countsConcurrent) return () => {};
      inFlight.set(user.id, (inFlight.get(user.id) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = inFlight.get(user.id)! - 1;
        if (left === 0) inFlight.delete(user.id);
        else inFlight.set(user.id, left);
      };
    },
  };
}
