import type { JobCounts } from '../db/repos/job-counts-repo.js';
import type { UserRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { AdmissionCheck, AdmissionContext } from './admission.js';

const HOUR_MS = 3_600_000;

/** A user's limits; 0 turns a limit off. */
export interface UserLimits {
  /** Jobs submitted per rolling hour. */
  readonly perHour: number;
  /** Jobs queued or running at once. */
  readonly concurrent: number;
}

export interface RateLimitConfig extends UserLimits {
  /** Admins pass unchecked unless `perUser` names them. */
  readonly exemptAdmins: boolean;
  /** Overrides by user name or id (the id wins when both match); unset fields keep the defaults. */
  readonly perUser?: Readonly<Record<string, Partial<UserLimits>>>;
  /** Retry-After hint when the concurrency limit refuses: a job's end cannot be predicted. Default 5. */
  readonly concurrentRetryAfterSeconds?: number;
}

/** Seed 003: 50 generations per hour, 2 at once. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = Object.freeze({ perHour: 50, concurrent: 2, exemptAdmins: true, concurrentRetryAfterSeconds: 5 });

export interface RateLimitDeps extends JobCounts {
  readonly clock?: () => number;
}

/**
 * The admission check for per-user rate limits (SPEC §7): at most `perHour` jobs submitted in
 * any rolling hour and `concurrent` jobs queued or running at once. A refusal is a 429
 * `rate_limited` whose `details` are `{ retryAfterSeconds, limit, window: 'hour' | 'concurrent' }`
 * — the HTTP layer turns `retryAfterSeconds` into `Retry-After`.
 *
 * The hourly Retry-After is exact: the seconds until the oldest job in the window leaves it.
 * Counts come from the database (`deps`), so limits survive restarts. The check runs once
 * before the job is built (a cheap early refusal) and again as `recheck` inside the
 * transaction that records the job with the user's row locked, so
 * simultaneous requests on any number of nodes never overshoot a limit.
 *
 * @example
 * const check = createRateLimitCheck(jobCounts, { perHour: 50, concurrent: 2, exemptAdmins: true });
 * createJobService({ ..., admission: [check] });
 */
export function createRateLimitCheck(deps: RateLimitDeps, limits: RateLimitConfig): AdmissionCheck {
  validate(limits);
  const clock = deps.clock ?? Date.now;
  const concurrentRetryAfter = limits.concurrentRetryAfterSeconds ?? 5;

  function limitsFor(user: UserRow): UserLimits | undefined {
    const override = limits.perUser?.[user.id] ?? limits.perUser?.[user.name];
    // A named override is a deliberate choice about that user, so it applies to admins too.
    if (!override && limits.exemptAdmins && user.role === 'admin') return undefined;
    return { perHour: override?.perHour ?? limits.perHour, concurrent: override?.concurrent ?? limits.concurrent };
  }

  async function decide(counts: JobCounts, user: UserRow): Promise<void> {
    const own = limitsFor(user);
    if (!own) return;
    // Hourly first: when both limits bind, its (longer) wait is the one that tells the truth.
    if (own.perHour > 0) {
      const now = clock();
      const recent = await counts.countRecent(user.id, now - HOUR_MS);
      if (recent.count >= own.perHour) {
        const leavesAt = (recent.oldestCreatedAt ?? now) + HOUR_MS;
        const retryAfterSeconds = Math.max(1, Math.ceil((leavesAt - now) / 1000));
        throw new AtelierError('rate_limited', `Rate limit reached: ${own.perHour} jobs per hour. Try again in ${retryAfterSeconds} s.`, {
          details: { retryAfterSeconds, limit: own.perHour, window: 'hour' },
        });
      }
    }
    if (own.concurrent > 0) {
      const active = await counts.countRunning(user.id);
      if (active >= own.concurrent) {
        throw new AtelierError(
          'rate_limited',
          `Concurrency limit reached: ${own.concurrent} jobs queued or running at once. Try again when one finishes.`,
          { details: { retryAfterSeconds: concurrentRetryAfter, limit: own.concurrent, window: 'concurrent' } },
        );
      }
    }
  }

  const early = async (context: AdmissionContext) => decide(deps, context.user);
  return Object.assign(early, {
    recheck: async (context: AdmissionContext, counts: JobCounts) => decide(counts, context.user),
    rechecks: (context: AdmissionContext) => {
      const own = limitsFor(context.user);
      return own !== undefined && (own.perHour > 0 || own.concurrent > 0);
    },
  });
}

function validate(limits: RateLimitConfig): void {
  const check = (key: string, value: number | undefined, min = 0) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw new AtelierError('config_invalid', `Expected integer ≥ ${min} for rateLimits.${key} but received ${String(value)}`, { field: `rateLimits.${key}` });
    }
  };
  check('perHour', limits.perHour);
  check('concurrent', limits.concurrent);
  check('concurrentRetryAfterSeconds', limits.concurrentRetryAfterSeconds, 1);
  for (const [who, override] of Object.entries(limits.perUser ?? {})) {
    check(`perUser.${who}.perHour`, override.perHour);
    check(`perUser.${who}.concurrent`, override.concurrent);
  }
}
