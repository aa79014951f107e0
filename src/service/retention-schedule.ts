import type { Logger } from '../observability/logger.js';
import { describeSweep, type RetentionResult } from './retention.js';

/** Options of {@link startRetentionSweeps}. */
export interface RetentionScheduleOptions {
  /** Time between sweeps; 0 turns periodic sweeping off. */
  readonly intervalMs: number;
  /** Delay before the first sweep, so start-up is not slowed by it. */
  readonly firstDelayMs: number;
  readonly sweep: () => Promise<RetentionResult>;
  readonly logger: Logger;
}

/** A running schedule of sweeps. */
export interface RetentionSchedule {
  /** Cancels the next sweep and waits for one in progress, so the database can close after. */
  stop(): Promise<void>;
}

/**
 * Runs retention sweeps in the server: the first shortly after start, then every interval.
 * The next sweep is scheduled when the previous one ends, so sweeps never overlap however
 * long one takes. A failed sweep is logged and the schedule goes on.
 */
export function startRetentionSweeps(options: RetentionScheduleOptions): RetentionSchedule {
  const { logger } = options;
  let stopped = options.intervalMs <= 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(run, delayMs);
    // A pending sweep must not keep a process alive that has nothing else to do.
    timer.unref();
  };

  function run() {
    running = options
      .sweep()
      .then((result) => {
        if (result.items.length > 0) logger.info({ assets: result.assets, uploads: result.uploads, jobInputs: result.jobInputs, files: result.files }, `retention sweep deleted ${describeSweep(result)}`);
        if (result.failed > 0) logger.warn({ failed: result.failed }, `retention sweep could not delete ${result.failed} item(s); retrying next sweep`);
      })
      .catch((error: unknown) => logger.error({ err: error }, 'retention sweep failed'))
      .finally(() => {
        running = undefined;
        schedule(options.intervalMs);
      });
  }

  schedule(Math.min(options.firstDelayMs, options.intervalMs));
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
