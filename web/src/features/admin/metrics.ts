/**
 * The admin dashboard's data (`GET /api/admin/metrics`) and the pure conversions the charts
 * need: per-bucket counts from Prometheus' cumulative histogram, queue bars, depth samples and
 * the spoken summaries that label each chart.
 */

export interface BackendMetrics {
  readonly name: string;
  readonly kind: string;
  readonly label: string;
  /** Whether the backend answers; null/undefined when not known (yet). */
  readonly healthy?: boolean | null;
  readonly succeeded: number;
  readonly failed: number;
  readonly canceled: number;
  /** ok: every instance up; degraded: some; down: none (routing layer's health checks and breakers). */
  readonly state?: 'ok' | 'degraded' | 'down';
  readonly instances?: { readonly up: number; readonly total: number };
  /** Jobs running on its instances now. */
  readonly inFlight?: number;
  /** The most recent failure (a job's or a health check's). */
  readonly lastError?: { readonly message: string; readonly at: string; readonly instance: string } | null;
}

export interface AdminMetrics {
  readonly cache: { readonly hits: number; readonly misses: number; readonly hitRatio: number };
  readonly jobDuration: { readonly buckets: readonly { readonly le: number; readonly count: number }[]; readonly count: number };
  readonly queue: Readonly<Record<string, number>>;
  readonly backends: readonly BackendMetrics[];
  readonly moderationRefusals?: number;
}

export interface HistogramBucket {
  /** Lower bound (exclusive), seconds; 0 for the first bucket. */
  readonly from: number;
  /** Upper bound (inclusive), seconds; Infinity for the overflow bucket. */
  readonly to: number;
  readonly count: number;
  readonly label: string;
}

/**
 * Prometheus buckets are cumulative ("jobs that took ≤ le"); a bar chart wants how many fell in
 * each interval. The last bar holds what exceeded the largest bound (total − last cumulative).
 * Buckets are sorted first; a count that goes down (a reset between reads) clamps to 0.
 */
export function histogramBuckets(cumulative: readonly { readonly le: number; readonly count: number }[], total: number): HistogramBucket[] {
  const sorted = [...cumulative].filter((b) => Number.isFinite(b.le)).sort((a, b) => a.le - b.le);
  const result: HistogramBucket[] = [];
  let previousLe = 0;
  let previousCount = 0;
  for (const bucket of sorted) {
    result.push({ from: previousLe, to: bucket.le, count: Math.max(0, bucket.count - previousCount), label: `≤${formatSeconds(bucket.le)}` });
    previousLe = bucket.le;
    previousCount = Math.max(previousCount, bucket.count);
  }
  if (sorted.length > 0) result.push({ from: previousLe, to: Infinity, count: Math.max(0, total - previousCount), label: `>${formatSeconds(previousLe)}` });
  return result;
}

/** 0.05 → "0.05s", 2.5 → "2.5s", 120 → "2m", 300 → "5m". */
export function formatSeconds(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Number(seconds.toPrecision(3))}s`;
}

export const QUEUE_STATES = ['waiting', 'delayed', 'active'] as const;

/** The three queue states in a fixed order (missing ones are 0). */
export function queueBars(queue: Readonly<Record<string, number>>): { readonly label: string; readonly value: number }[] {
  return QUEUE_STATES.map((state) => ({ label: state, value: queue[state] ?? 0 }));
}

export function queueDepth(queue: Readonly<Record<string, number>>): number {
  return QUEUE_STATES.reduce((sum, state) => sum + (queue[state] ?? 0), 0);
}

/** Keeps the most recent `limit` samples (a rolling window for the sparkline). */
export function appendSample(samples: readonly number[], value: number, limit = 60): number[] {
  const next = [...samples, value];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function cacheSummary(cache: AdminMetrics['cache']): string {
  const lookups = cache.hits + cache.misses;
  if (lookups === 0) return 'Cache hit ratio: no lookups yet';
  return `Cache hit ratio ${Math.round(cache.hitRatio * 1000) / 10}%: ${plural(cache.hits, 'hit')}, ${plural(cache.misses, 'miss', 'misses')} of ${plural(lookups, 'lookup')}`;
}

export function histogramSummary(buckets: readonly HistogramBucket[], total: number): string {
  if (total === 0) return 'Job durations: no finished jobs yet';
  const busiest = buckets.reduce((a, b) => (b.count > a.count ? b : a), buckets[0]!);
  const parts = buckets.filter((b) => b.count > 0).map((b) => `${b.count} ${b.to === Infinity ? `over ${formatSeconds(b.from)}` : `${formatSeconds(b.from)}–${formatSeconds(b.to)}`}`);
  return `Job durations of ${plural(total, 'job')}; most took ${busiest.to === Infinity ? `over ${formatSeconds(busiest.from)}` : `up to ${formatSeconds(busiest.to)}`}: ${parts.join(', ')}`;
}

export function queueSummary(queue: Readonly<Record<string, number>>): string {
  return `Queue depth ${queueDepth(queue)}: ${queueBars(queue)
    .map((b) => `${b.value} ${b.label}`)
    .join(', ')}`;
}

export function depthTrendSummary(samples: readonly number[], intervalSeconds: number): string {
  if (samples.length === 0) return 'Queue depth over time: no samples yet';
  return `Queue depth over the last ${plural(samples.length, 'sample')} (every ${intervalSeconds} s): now ${samples.at(-1)}, peak ${Math.max(...samples)}`;
}

export type HealthState = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

/** The tile's state: the routing layer's ok/degraded/down when sent, else the healthy flag. */
export function healthState(backend: BackendMetrics): HealthState {
  if (backend.state === 'degraded') return 'degraded';
  if (backend.state === 'down') return 'unhealthy';
  if (backend.healthy === true) return 'healthy';
  if (backend.healthy === false) return 'unhealthy';
  return 'unknown';
}

export function backendSummary(backend: BackendMetrics): string {
  const total = backend.succeeded + backend.failed + backend.canceled;
  const instances = backend.instances ? ` (${backend.instances.up} of ${plural(backend.instances.total, 'instance')} up)` : '';
  return `${backend.label || backend.name} is ${healthState(backend)}${instances}: ${plural(total, 'job')} finished — ${backend.succeeded} succeeded, ${backend.failed} failed, ${backend.canceled} canceled`;
}
