/**
 * How Atelier's queue terms map onto BullMQ's: one BullMQ queue per lane, and priorities
 * turned around (ours: higher runs sooner, any integer; BullMQ's: 1 runs soonest, up to 2^21).
 */

/** The BullMQ job name of every entry (BullMQ wants one; ours carry no meaning in it). */
export const JOB_NAME = 'job';

/** The custom backoff type our jobs name, served by the worker's `backoffStrategy`. */
export const BACKOFF_TYPE = 'atelier';

const MIDDLE = 2 ** 20;
const LOWEST = 2 ** 21;

/**
 * The BullMQ queue of a lane. BullMQ forbids ':' in queue names and lanes have one
 * (`remote:gpu`), so the lane is percent-encoded: `jobs-remote%3Agpu`.
 */
export function queueNameOf(lane: string): string {
  return `jobs-${encodeURIComponent(lane)}`;
}

/**
 * Our priority as BullMQ's. Every entry gets a BullMQ priority ≥ 1 on purpose: BullMQ takes
 * priority-0 jobs (its plain `wait` list) before every prioritized one, so mixing the two
 * would break the order.
 *
 * @example bullmqPriority(0) // 1048576; bullmqPriority(5) // 1048571 (runs sooner)
 */
export function bullmqPriority(priority: number): number {
  return Math.min(LOWEST, Math.max(1, MIDDLE - Math.round(priority)));
}
