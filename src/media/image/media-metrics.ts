import { Counter, Histogram, type Registry } from 'prom-client';
import { UnrecoverableError } from '../../errors/signals.js';
import { classifyMediaError, type MediaErrorClass } from './media-error.js';

const ERROR_CLASSES: readonly (MediaErrorClass | 'none')[] = ['none', 'source', 'processing', 'storage', 'memory'];

/**
 * Seed 004's media KPIs as Prometheus metrics, registered on `registry`:
 * `atelier_media_processing_seconds` (histogram, by result) and
 * `atelier_media_results_total{result="success|failure|refused", error_class="none|source|processing|storage|memory"}`.
 * `refused` (with `error_class="none"`) is an output the safety policy refused
 * (`output_refused`): the processing worked, so it is no failure of it.
 *
 * @example
 * const media = createMediaMetrics(metrics.registry);
 * const derivatives = await media.measure(() => renderDerivatives(png, preset));
 */
export function createMediaMetrics(registry: Registry) {
  const processingSeconds = new Histogram({
    name: 'atelier_media_processing_seconds',
    help: 'Time to post-process one media item (decode, thumbnail, variants)',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const results = new Counter({
    name: 'atelier_media_results_total',
    help: 'Media post-processing outcomes by error class',
    labelNames: ['result', 'error_class'] as const,
    registers: [registry],
  });
  // Every series exists from the start, so a rate() over failures is 0 rather than absent.
  results.inc({ result: 'success', error_class: 'none' }, 0);
  results.inc({ result: 'refused', error_class: 'none' }, 0);
  for (const errorClass of ERROR_CLASSES.slice(1)) results.inc({ result: 'failure', error_class: errorClass }, 0);

  /** Records one outcome; `error` (if any) is classified with {@link classifyMediaError}. */
  function record(outcome: { seconds: number; error?: unknown }): void {
    const result = !('error' in outcome) ? 'success' : isRefusal(outcome.error) ? 'refused' : 'failure';
    processingSeconds.observe({ result }, outcome.seconds);
    results.inc({ result, error_class: result === 'failure' ? classifyMediaError(outcome.error) : 'none' });
  }

  /** Runs `work`, records its duration and outcome, and returns or rethrows its result. */
  async function measure<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      record({ seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (error) {
      record({ seconds: (performance.now() - started) / 1000, error });
      throw error;
    }
  }

  return { processingSeconds, results, record, measure };
}

/** An output the safety policy refused (src/media/safety/scan-output.ts), thrown from the derivatives' inspection. */
function isRefusal(error: unknown): boolean {
  return error instanceof UnrecoverableError && error.code === 'output_refused';
}

export type MediaMetrics = ReturnType<typeof createMediaMetrics>;
