import { Counter, Histogram, type Registry } from 'prom-client';
import { RetryableError } from '../../errors/signals.js';
import type { RgbPixels } from '../image/variants.js';
import { createHttpSafetyChecker } from './http-safety-checker.js';
import { createNsfwjsClassifier } from './nsfwjs-classifier.js';
import type { SafetyClassifier } from './safety-classifier.js';
import { decide, policyForModel, type SafetyPolicy, type SafetyPolicyName, type SafetyRecord } from './safety-policy.js';

/** The configuration's `safety` object (src/main/config-schema.ts). */
export interface SafetyConfig extends SafetyPolicy {
  /** An external checker instead of the built-in model. */
  readonly url?: string;
  readonly timeoutMs?: number;
}

/** The scan of one model's outputs: its policy, and a classification that fails closed. */
export interface SafetyScan {
  readonly policy: Exclude<SafetyPolicyName, 'off'>;
  readonly threshold: number;
  /** Classifies 224² RGB pixels; throws a retryable `safety_check_failed` when it cannot. */
  scan(pixels: RgbPixels): Promise<SafetyRecord>;
}

export interface SafetyScanner {
  /** The scan for a model's outputs, or undefined when its policy is `off`. */
  forModel(override: Partial<SafetyPolicy> | undefined): SafetyScan | undefined;
}

/**
 * Classifies outputs under the configured policy, with Prometheus metrics on `registry`:
 * `atelier_safety_scans_total{model, result="clean|flagged|error"}` and
 * `atelier_safety_scan_seconds{model}`. A classification that fails (the checker is down, the
 * model will not load) is a retryable `safety_check_failed`: an output is never delivered
 * unscanned while a policy is on. The classifier itself (the model) loads on the first scan.
 *
 * @example const scan = createSafetyScanner(config.safety, registry).forModel(model.safety)
 */
export function createSafetyScanner(config: SafetyConfig, registry: Registry, classifier: SafetyClassifier = defaultClassifier(config)): SafetyScanner {
  const scans = new Counter({ name: 'atelier_safety_scans_total', help: 'Outputs classified by the safety scan, by result', labelNames: ['model', 'result'] as const, registers: [registry] });
  const seconds = new Histogram({
    name: 'atelier_safety_scan_seconds',
    help: 'Time to classify one output for the safety scan (the first includes loading the model)',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const result of ['clean', 'flagged', 'error']) scans.inc({ model: classifier.model, result }, 0);

  async function classify(pixels: RgbPixels, threshold: number): Promise<SafetyRecord> {
    const started = performance.now();
    try {
      const record = decide(await classifier.classify(pixels), threshold);
      scans.inc({ model: classifier.model, result: record.flagged ? 'flagged' : 'clean' });
      return record;
    } catch (error) {
      scans.inc({ model: classifier.model, result: 'error' });
      throw new RetryableError(`The safety scan of the output failed: ${error instanceof Error ? error.message : String(error)}`, 'safety_check_failed', { cause: error });
    } finally {
      seconds.observe({ model: classifier.model }, (performance.now() - started) / 1000);
    }
  }

  return {
    forModel(override) {
      const { policy, threshold } = policyForModel(config, override);
      if (policy === 'off') return undefined;
      return { policy, threshold, scan: (pixels) => classify(pixels, threshold) };
    },
  };
}

function defaultClassifier(config: SafetyConfig): SafetyClassifier {
  return config.url ? createHttpSafetyChecker({ url: config.url, ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}) }) : createNsfwjsClassifier();
}
