import type { EnqueueOptions, Queue } from './queue.js';

/**
 * Wraps a queue so every enqueue without an explicit lane goes to the lane `laneOf` gives
 * for the job (e.g. from its backend with `laneFor`). Wired once at the composition root, it
 * covers every producer — job submission and the runner's re-enqueue at start — so no job of
 * a remote backend can land in the local lane by omission. An explicit `lane` wins.
 */
export function routeLanes(queue: Queue, laneOf: (jobId: string) => Promise<string>): Queue {
  return {
    ...queue,
    async enqueue(jobId: string, options: EnqueueOptions) {
      return queue.enqueue(jobId, options.lane === undefined ? { ...options, lane: await laneOf(jobId) } : options);
    },
  };
}
