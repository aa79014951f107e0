/**
 * The job queue port. It orders and leases job ids; it knows nothing of what a job is.
 * Adapters: `embedded` (the SQL queue: rows in the same database as the records, SQLite or
 * PostgreSQL) and `bullmq` (Redis).
 *
 * A lease is exclusive until it expires; every call that acts on a lease is refused once the
 * lease is gone (expired and re-claimed, canceled, completed), so a stale worker can never
 * complete a job twice.
 *
 * Every entry belongs to one lane (src/queue/lanes.ts), `local` unless enqueued with another;
 * a claim takes only from the lanes it names (`local` by default), so the in-process runner
 * never picks up a job meant for a remote worker. Everything else (heartbeat, complete, fail,
 * cancel, recoverExpired, counts) works across all lanes.
 *
 * @example
 * const lease = await queue.claim('runner-1', 30_000);
 * if (lease) { ...; await queue.complete(lease); }
 */
export interface Queue {
  /** Adds a job. Idempotent: enqueuing an id that is already queued changes nothing. */
  enqueue(jobId: string, options: EnqueueOptions): Promise<void>;
  /**
   * Leases the next available job of `lanes` (default `local`): highest priority, then
   * oldest, across the named lanes. Undefined when none is available.
   */
  claim(workerId: string, leaseMs: number, lanes?: string | readonly string[]): Promise<Lease | undefined>;
  /** Extends the lease; false when it is lost (expired and taken, or canceled). */
  heartbeat(lease: Lease, leaseMs: number): Promise<boolean>;
  /** Removes the job for good; false when the lease was already lost. */
  complete(lease: Lease): Promise<boolean>;
  /**
   * Records a failed attempt: retried after exponential backoff while attempts remain and
   * the error is retryable, otherwise removed as failed. Undefined when the lease was lost.
   */
  fail(lease: Lease, error: QueueError, retryable: boolean): Promise<FailOutcome | undefined>;
  /** Removes a waiting job, or revokes the lease of a running one. False if not queued. */
  cancel(jobId: string): Promise<boolean>;
  /** Applies expiry to leases whose holder stopped heartbeating, like a failed attempt. */
  recoverExpired(): Promise<ExpiredLease[]>;
  /**
   * Ends every lease `owner` holds, without waiting for them to expire: a node restarting
   * after a crash takes back what its previous incarnation was running. Each counts as an
   * attempt; with attempts left the job is available again at once, ahead of the jobs of its
   * priority queued after it (where it was when it was claimed); otherwise it is removed.
   */
  reclaim(owner: string): Promise<ExpiredLease[]>;
  counts(): Promise<QueueCounts>;
  /**
   * Resolves when work may have arrived in `lanes` (default `local`), or after `timeoutMs`:
   * lets runners sleep. Work arriving in other lanes does not wake the caller.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal, lanes?: string | readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface EnqueueOptions {
  readonly priority: number;
  readonly maxAttempts: number;
  /** Attempts already spent, when re-enqueuing a job recovered after a crash. */
  readonly attemptsMade?: number;
  readonly delayMs?: number;
  /** Who may claim it (src/queue/lanes.ts); default `local`. Kept across retries. */
  readonly lane?: string;
}

export interface Lease {
  readonly jobId: string;
  readonly token: string;
  /** 1-based number of this attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly expiresAt: number;
}

export interface QueueError {
  readonly code: string;
  readonly message: string;
}

/** What every adapter reports for an attempt whose holder stopped heartbeating. */
export const LEASE_EXPIRED: QueueError = { code: 'lease_expired', message: 'The worker running the job stopped responding (lease expired)' };

/** What every adapter reports for an attempt taken back by its restarted node (`reclaim`). */
export const LEASE_RECLAIMED: QueueError = { code: 'lease_expired', message: 'The node running the job stopped (it restarted and took the job back)' };

export type FailOutcome =
  | { readonly kind: 'retry'; readonly retryAt: number; readonly attempt: number }
  | { readonly kind: 'failed'; readonly attempt: number };

export interface ExpiredLease {
  readonly jobId: string;
  readonly outcome: FailOutcome;
  readonly error: QueueError;
}

export interface QueueCounts {
  readonly waiting: number;
  readonly delayed: number;
  readonly active: number;
}

export interface RetryPolicy {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}
