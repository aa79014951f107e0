import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../../src/errors/signals.js';
import type { SafetyClassifier } from '../../../src/media/safety/safety-classifier.js';
import { createSafetyScanner } from '../../../src/media/safety/safety-scanner.js';

const pixels = { data: Buffer.alloc(224 * 224 * 3), width: 224, height: 224 };
const fixed = (porn: number): SafetyClassifier => ({ model: 'fixed', classify: async () => ({ model: 'fixed', scores: { drawing: 0, hentai: 0, neutral: 1 - porn, porn, sexy: 0 } }) });
const broken: SafetyClassifier = {
  model: 'broken',
  classify: async () => {
    throw new Error('connection refused');
  },
};

async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

describe('createSafetyScanner', () => {
  it('gives no scan for a model whose policy is off, and the per-model policy otherwise', () => {
    const scanner = createSafetyScanner({ policy: 'flag', threshold: 0.7 }, new Registry(), fixed(0));
    expect(scanner.forModel({ policy: 'off' })).toBeUndefined();
    expect(scanner.forModel(undefined)).toMatchObject({ policy: 'flag', threshold: 0.7 });
    expect(scanner.forModel({ policy: 'block', threshold: 0.3 })).toMatchObject({ policy: 'block', threshold: 0.3 });
    expect(createSafetyScanner({ policy: 'off', threshold: 0.7 }, new Registry(), fixed(0)).forModel({ threshold: 0 })).toBeUndefined();
  });

  it("decides with the model's threshold and counts clean and flagged scans, and their time", async () => {
    const registry = new Registry();
    const scanner = createSafetyScanner({ policy: 'flag', threshold: 0.7 }, registry, fixed(0.5));
    expect((await scanner.forModel(undefined)!.scan(pixels)).flagged).toBe(false);
    expect((await scanner.forModel({ threshold: 0.5 })!.scan(pixels)).flagged).toBe(true);
    expect(await sample(registry, 'atelier_safety_scans_total', { model: 'fixed', result: 'clean' })).toBe(1);
    expect(await sample(registry, 'atelier_safety_scans_total', { model: 'fixed', result: 'flagged' })).toBe(1);
    const histogram = (await registry.getMetricsAsJSON()).find((m) => m.name === 'atelier_safety_scan_seconds')!;
    expect(histogram.values.find((v) => (v as { metricName?: string }).metricName === 'atelier_safety_scan_seconds_count')?.value).toBe(2);
  });

  it('fails closed: a classifier that fails is a retryable safety_check_failed, counted as an error', async () => {
    const registry = new Registry();
    const scan = createSafetyScanner({ policy: 'flag', threshold: 0.7 }, registry, broken).forModel(undefined)!;
    const error = await scan.scan(pixels).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'safety_check_failed', message: expect.stringContaining('connection refused') });
    expect(await sample(registry, 'atelier_safety_scans_total', { model: 'broken', result: 'error' })).toBe(1);
  });
});
