import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from '../queue/queue.js';

/** The Prometheus metrics Atelier exports; one registry per server so tests stay isolated. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'atelier_process_' });
  return {
    registry,
    jobsSubmitted: new Counter({ name: 'atelier_jobs_submitted_total', help: 'Jobs accepted', labelNames: ['mode', 'model'] as const, registers: [registry] }),
    jobsFinished: new Counter({ name: 'atelier_jobs_finished_total', help: 'Jobs that reached a terminal state', labelNames: ['status', 'model'] as const, registers: [registry] }),
    moderationRefused: new Counter({ name: 'atelier_moderation_refused_total', help: 'Jobs refused by moderation', labelNames: ['source'] as const, registers: [registry] }),
    attemptsRetried: new Counter({ name: 'atelier_job_retries_total', help: 'Failed attempts that will be retried', labelNames: ['code'] as const, registers: [registry] }),
    jobDuration: new Histogram({
      name: 'atelier_job_duration_seconds',
      help: 'Submit-to-terminal time of jobs',
      labelNames: ['status', 'model'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    renderDuration: new Histogram({
      name: 'atelier_backend_generate_seconds',
      help: 'Time a backend took to generate one job',
      labelNames: ['backend'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    /** Deletions by retention (seed 003): asset rows, upload rows and job-input copies. */
    retentionDeleted: new Counter({ name: 'atelier_retention_deleted_total', help: 'Items deleted by retention cleanup', labelNames: ['kind'] as const, registers: [registry] }),
    /**
     * What a job costs, counted where it is spent (issue 13): statements sent to the database,
     * storage requests by operation, fsyncs of the disk adapter, HTTP requests served by route.
     * `npm run bench` divides them by the jobs run.
     */
    dbStatements: new Counter({ name: 'atelier_db_statements_total', help: 'Statements sent to the database, transaction control included', registers: [registry] }),
    storageRequests: new Counter({ name: 'atelier_storage_requests_total', help: 'Storage operations by kind', labelNames: ['op'] as const, registers: [registry] }),
    storageFsyncs: new Counter({ name: 'atelier_storage_fsyncs_total', help: 'fsync calls of the disk storage (files and directories)', registers: [registry] }),
    httpRequests: new Counter({ name: 'atelier_http_requests_total', help: 'HTTP requests served, by route template and method', labelNames: ['route', 'method'] as const, registers: [registry] }),
    /** Reports queue depth at scrape time rather than tracking it on every change. */
    watchQueue(queue: Queue) {
      new Gauge({
        name: 'atelier_queue_jobs',
        help: 'Jobs in the queue by state',
        labelNames: ['state'] as const,
        registers: [registry],
        async collect() {
          const counts = await queue.counts();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
