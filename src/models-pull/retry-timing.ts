import { retryDelayMs } from '../jobs/backoff.js';

export interface BackoffSettings {
  /** The delay before the first retry, before jitter. */
  readonly baseMs: number;
  /** No delay grows past this (Retry-After included). */
  readonly maxMs: number;
}

/**
 * The wait before retry `failure` (1-based): exponential, with "equal jitter" — half the delay
 * fixed, half random — so many clients cut off at once do not come back in step. A server's
 * Retry-After wins when it asks for longer.
 *
 * @example retryWaitMs(3, { baseMs: 1000, maxMs: 60_000 }) // 2000–4000
 */
export function retryWaitMs(failure: number, settings: BackoffSettings, retryAfterMs?: number, random: () => number = Math.random): number {
  const delay = retryDelayMs(failure, settings.baseMs, settings.maxMs);
  const jittered = Math.round(delay / 2 + (random() * delay) / 2);
  return Math.min(settings.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * A Retry-After header in milliseconds: delay-seconds or an HTTP date. Undefined when absent
 * or unreadable.
 *
 * @example parseRetryAfter('120') // 120000
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
