import { describe, expect, it } from 'vitest';
import {
  appendSample,
  backendSummary,
  cacheSummary,
  formatSeconds,
  healthState,
  histogramBuckets,
  histogramSummary,
  queueBars,
  queueDepth,
  queueSummary,
} from '../../../web/src/features/admin/metrics';

describe('job duration histogram', () => {
  it('turns cumulative Prometheus buckets into per-bucket counts with an overflow bucket', () => {
    const buckets = histogramBuckets(
      [
        { le: 0.5, count: 2 },
        { le: 1, count: 5 },
        { le: 2.5, count: 5 },
        { le: 5, count: 9 },
      ],
      12,
    );
    expect(buckets.map((b) => [b.from, b.to, b.count])).toEqual([
      [0, 0.5, 2],
      [0.5, 1, 3],
      [1, 2.5, 0],
      [2.5, 5, 4],
      [5, Infinity, 3],
    ]);
    expect(buckets.map((b) => b.label)).toEqual(['≤0.5s', '≤1s', '≤2.5s', '≤5s', '>5s']);
    // The per-bucket counts always add up to the total.
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(12);
  });

  it('sorts unsorted buckets and never goes negative', () => {
    const buckets = histogramBuckets(
      [
        { le: 10, count: 4 },
        { le: 1, count: 3 },
        { le: 5, count: 2 }, // lower than the bucket before it (a reset between reads)
      ],
      3,
    );
    expect(buckets.map((b) => b.count)).toEqual([3, 0, 1, 0]);
  });

  it('is empty without buckets', () => {
    expect(histogramBuckets([], 0)).toEqual([]);
  });

  it('names bucket bounds in seconds and minutes', () => {
    expect([0.05, 0.1, 2.5, 30, 60, 120, 300, 90].map(formatSeconds)).toEqual(['0.05s', '0.1s', '2.5s', '30s', '1m', '2m', '5m', '90s']);
  });

  it('summarises the distribution for the chart label', () => {
    const buckets = histogramBuckets(
      [
        { le: 1, count: 1 },
        { le: 5, count: 4 },
      ],
      5,
    );
    expect(histogramSummary(buckets, 5)).toBe('Job durations of 5 jobs; most took up to 5s: 1 0s–1s, 3 1s–5s, 1 over 5s');
    expect(histogramSummary([], 0)).toBe('Job durations: no finished jobs yet');
  });
});

describe('queue, cache and backends', () => {
  it('orders queue states and totals the depth', () => {
    const queue = { active: 2, waiting: 5, extra: 9 };
    expect(queueBars(queue)).toEqual([
      { label: 'waiting', value: 5 },
      { label: 'delayed', value: 0 },
      { label: 'active', value: 2 },
    ]);
    expect(queueDepth(queue)).toBe(7);
    expect(queueSummary(queue)).toBe('Queue depth 7: 5 waiting, 0 delayed, 2 active');
  });

  it('keeps a rolling window of depth samples', () => {
    let samples: number[] = [];
    for (let i = 1; i <= 5; i++) samples = appendSample(samples, i, 3);
    expect(samples).toEqual([3, 4, 5]);
  });

  it('summarises the cache with plurals', () => {
    expect(cacheSummary({ hits: 3, misses: 1, hitRatio: 0.75 })).toBe('Cache hit ratio 75%: 3 hits, 1 miss of 4 lookups');
    expect(cacheSummary({ hits: 0, misses: 0, hitRatio: 0 })).toBe('Cache hit ratio: no lookups yet');
  });

  it('reads backend health, unknown when the server does not say', () => {
    const base = { name: 'builtin', kind: 'builtin', label: 'Preview renderer', succeeded: 4, failed: 1, canceled: 0 };
    expect(healthState({ ...base, healthy: true })).toBe('healthy');
    expect(healthState({ ...base, healthy: false })).toBe('unhealthy');
    expect(healthState(base)).toBe('unknown');
    expect(healthState({ ...base, healthy: true, state: 'degraded' })).toBe('degraded');
    expect(healthState({ ...base, healthy: false, state: 'down' })).toBe('unhealthy');
    expect(backendSummary({ ...base, healthy: true, state: 'ok', instances: { up: 1, total: 1 } })).toBe('Preview renderer is healthy (1 of 1 instance up): 5 jobs finished — 4 succeeded, 1 failed, 0 canceled');
    expect(backendSummary({ ...base, healthy: true })).toBe('Preview renderer is healthy: 5 jobs finished — 4 succeeded, 1 failed, 0 canceled');
  });
});
