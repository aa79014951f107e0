import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../../src/errors/signals.js';
import { MediaError } from '../../../src/media/image/media-error.js';
import { createMediaMetrics } from '../../../src/media/image/media-metrics.js';

async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = (metric?.values as { labels: Record<string, string | number>; value: number; metricName?: string }[] | undefined)?.find(
    (v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && (v.metricName === undefined || v.metricName === name || v.metricName.endsWith('_count')),
  );
  return found?.value;
}

describe('media metrics', () => {
  it('start every result series at zero', async () => {
    const registry = new Registry();
    createMediaMetrics(registry);
    const text = await registry.metrics();
    for (const errorClass of ['source', 'processing', 'storage', 'memory']) {
      expect(text).toContain(`atelier_media_results_total{result="failure",error_class="${errorClass}"} 0`);
    }
    expect(text).toContain('atelier_media_results_total{result="success",error_class="none"} 0');
    expect(text).toContain('atelier_media_results_total{result="refused",error_class="none"} 0');
  });

  it('counts an output the safety policy refused as refused, not as a processing failure', async () => {
    const registry = new Registry();
    const media = createMediaMetrics(registry);
    const refusal = new UnrecoverableError('Output 0 was refused by this server\'s safety policy', 'output_refused');
    await expect(media.measure(async () => Promise.reject(refusal))).rejects.toBe(refusal);
    const text = await registry.metrics();
    expect(text).toContain('atelier_media_results_total{result="refused",error_class="none"} 1');
    expect(text).toContain('atelier_media_results_total{result="failure",error_class="processing"} 0');
    expect(text).toContain('atelier_media_processing_seconds_count{result="refused"} 1');
    // Any other unrecoverable error is still a failure.
    media.record({ seconds: 0.1, error: new UnrecoverableError('bad', 'job_failed') });
    expect(await registry.metrics()).toContain('atelier_media_results_total{result="failure",error_class="processing"} 1');
  });

  it('measure records successes and classified failures, and passes results and errors through', async () => {
    const registry = new Registry();
    const media = createMediaMetrics(registry);
    expect(await media.measure(async () => 42)).toBe(42);
    const broken = new MediaError('source', 'corrupt');
    await expect(media.measure(async () => Promise.reject(broken))).rejects.toBe(broken);
    media.record({ seconds: 0.2, error: new RangeError('Array buffer allocation failed') });

    expect(await sample(registry, 'atelier_media_results_total', { result: 'success', error_class: 'none' })).toBe(1);
    expect(await sample(registry, 'atelier_media_results_total', { result: 'failure', error_class: 'source' })).toBe(1);
    expect(await sample(registry, 'atelier_media_results_total', { result: 'failure', error_class: 'memory' })).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('atelier_media_processing_seconds_count{result="success"} 1');
    expect(text).toContain('atelier_media_processing_seconds_count{result="failure"} 2');
  });
});
