import { ErrorCode, type Job, type JobsOptions, type Queue as BullQueue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueError } from '../queue.js';
import { BACKOFF_TYPE } from './bullmq-names.js';

/** What each BullMQ job carries besides its id. */
export interface EntryData {
  /** Attempts spent before this BullMQ job existed (a crash re-enqueue, an expired lease). */
  readonly attemptsBefore: number;
  readonly maxAttempts: number;
  readonly lane: string;
}

/**
 * The BullMQ options of an entry: our id (idempotent adds), the attempts it has left, our
 * backoff strategy, and gone from Redis once finished (the job records keep the history).
 */
export function entryOptions(jobId: string, priority: number, maxAttempts: number, attemptsBefore: number, delayMs: number): JobsOptions {
  return {
    jobId,
    priority,
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    attempts: Math.max(1, maxAttempts - attemptsBefore),
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * The 1-based attempt number of the job's current (or last) claim. BullMQ's attemptsStarted
 * grows with every move to active, so each claim gets a new number.
 */
export function attemptOf(job: Pick<Job, 'data' | 'attemptsStarted'>): number {
  return (job.data as EntryData).attemptsBefore + job.attemptsStarted;
}

/** When a delayed job is due, from BullMQ's delayed set (score = due time × 4096 + n). */
export async function dueTime(commands: Redis, queue: BullQueue, jobId: string): Promise<number | undefined> {
  const score = await commands.zscore(queue.keys.delayed!, jobId);
  return score === null ? undefined : Math.floor(Number(score) / 0x1000);
}

/** Our error as the Error BullMQ records (`failedReason` = message). */
export function asError(error: QueueError): Error {
  const result = new Error(error.message);
  result.name = error.code;
  return result;
}

/** Script answers meaning "this lease is not yours (any more)": refusals, not failures. */
const LEASE_REFUSALS = new Set<number>([ErrorCode.JobNotExist, ErrorCode.JobLockNotExist, ErrorCode.JobNotInState, ErrorCode.JobLockMismatch]);

export function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && LEASE_REFUSALS.has(code);
}
