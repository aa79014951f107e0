import type { FastifyPluginAsync } from 'fastify';
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client';
import type { AppDeps } from '../app-deps.js';
import { requireAdmin } from '../plugins/auth.js';

type Values = MetricObjectWithValues<MetricValue<string> | MetricValueWithName<string>>;

/**
 * `GET /api/admin/metrics`: the dashboard's figures as JSON — cache hit ratio, job duration
 * histogram, queue depth, and throughput and errors per backend. The same numbers /metrics
 * exports, read from one registry.
 */
export function adminMetricsRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/admin/metrics', { schema: { tags: ['admin'], summary: 'Dashboard metrics (admin)', security: [{ bearerAuth: [] }] } }, async (request) => {
      requireAdmin(request);
      const all = (await deps.metrics.registry.getMetricsAsJSON()) as Values[];
      const byName = new Map(all.map((m) => [m.name, m]));
      const values = (name: string) => byName.get(name)?.values ?? [];
      const sum = (name: string, match: Record<string, string>) =>
        values(name)
          .filter((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))
          .reduce((total, v) => total + v.value, 0);

      const hits = sum('atelier_prompt_cache_lookups_total', { result: 'hit' });
      const misses = sum('atelier_prompt_cache_lookups_total', { result: 'miss' });
      const buckets = new Map<number, number>();
      for (const v of values('atelier_job_duration_seconds')) {
        const le = v.labels.le;
        if ('metricName' in v && v.metricName?.endsWith('_bucket') && le !== undefined && le !== '+Inf') buckets.set(Number(le), (buckets.get(Number(le)) ?? 0) + v.value);
      }
      const queue = Object.fromEntries(values('atelier_queue_jobs').map((v) => [String(v.labels.state), v.value]));
      const backends = [...deps.backends.entries()].map(([name, backend]) => {
        const models = deps.registry.list().filter((m) => m.backend === name).map((m) => m.name);
        const count = (status: string) => models.reduce((n, model) => n + sum('atelier_jobs_finished_total', { status, model }), 0);
        // Network backends report their instances' health checks and circuit breakers;
        // in-process ones (builtin, remote lanes) are up whenever this server is.
        const health = backend.healthReport?.() ?? { healthy: true, state: 'ok' as const, instances: { up: 1, total: 1 }, inFlight: 0, lastError: null };
        return { name, kind: backend.kind, label: backend.label, ...health, succeeded: count('succeeded'), failed: count('failed'), canceled: count('canceled') };
      });
      return {
        cache: { hits, misses, hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses) },
        jobDuration: {
          // Cumulative counts per upper bound, as Prometheus histograms are.
          buckets: [...buckets.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count })),
          count: sum('atelier_job_duration_seconds_count', {}) || values('atelier_job_duration_seconds').filter((v) => 'metricName' in v && v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0),
        },
        queue,
        backends,
        moderationRefusals: sum('atelier_moderation_refused_total', {}),
      };
    });
  };
}
