import type { JobCounts } from '../db/repos/job-counts-repo.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AdmissionCheck } from '../service/admission.js';
import { createModerationCheck } from '../service/moderation.js';
import { createRateLimitCheck } from '../service/rate-limits.js';
import type { Config } from './config-schema.js';

/**
 * The gates every job passes, cheapest first: rate limits (counted in the database, so they
 * hold across restarts and nodes), then moderation (blocklist, then the external check).
 */
export function createAdmissionChecks(config: Config, counts: JobCounts, metrics: Metrics, logger: Logger): AdmissionCheck[] {
  const checks: AdmissionCheck[] = [createRateLimitCheck(counts, config.rateLimits)];
  const { blocklist, checkNegativePrompt, external } = config.moderation;
  if (blocklist.length > 0 || external) {
    checks.push(
      createModerationCheck({
        blocklist,
        checkNegativePrompt,
        ...(external ? { external } : {}),
        onRefused: ({ source }) => metrics.moderationRefused.inc({ source }),
        onExternalError: (error) => logger.warn({ err: error }, 'moderation service failed'),
      }),
    );
  }
  return checks;
}
