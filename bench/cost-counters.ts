import type { Registry } from 'prom-client';

/**
 * The per-job cost counters every Atelier process exports (issue 13): statements sent to the
 * database, storage requests by op, disk fsyncs and HTTP requests by route. Read in-process
 * from a server's registry (embedded) or from each node's `/metrics` (scale-out), summed over
 * nodes and subtracted before/after a timed run.
 */
export type Counters = ReadonlyMap<string, number>;

const COUNTERS = ['atelier_db_statements_total', 'atelier_storage_requests_total', 'atelier_storage_fsyncs_total', 'atelier_http_requests_total'];

/** `name{label=value,…}` with labels in a fixed order, so two readings line up. */
const key = (name: string, labels: Record<string, string | number | undefined>) => {
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
};

export async function readRegistry(registry: Registry): Promise<Counters> {
  const out = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!COUNTERS.includes(metric.name)) continue;
    for (const v of metric.values) out.set(key(metric.name, v.labels), v.value);
  }
  return out;
}

/** Parses the counters out of a node's Prometheus text exposition (`GET /metrics`). */
export async function readMetricsEndpoint(url: string, adminToken: string): Promise<Counters> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!response.ok) throw new Error(`GET ${url}/metrics: ${response.status}`);
  const out = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !COUNTERS.includes(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!.replace(/\\(.)/g, '$1');
    out.set(key(m[1]!, labels), Number(m[3]));
  }
  return out;
}

export function sumCounters(readings: readonly Counters[]): Counters {
  const out = new Map<string, number>();
  for (const r of readings) for (const [k, v] of r) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

export function counterDiff(before: Counters, after: Counters): Counters {
  return new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
}

/** What the bench prints per job, from a counter difference over `jobs` jobs. */
export interface CounterCost {
  readonly sql: number;
  /** Storage requests by op (put, get, stat, delete, copy, list). */
  readonly storage: ReadonlyMap<string, number>;
  readonly fsyncs: number;
  /** HTTP requests by short name (submit, claim, …) or, for any other route, `METHOD template`. */
  readonly http: ReadonlyMap<string, number>;
}

/** The routes of a job's life, by the names the bench prints. */
const ROUTE_NAMES: Record<string, string> = {
  'POST /api/generate/text-to-image': 'submit',
  'POST /api/worker/claim': 'claim',
  'POST /api/worker/jobs/:id/heartbeat': 'heartbeat',
  'PUT /api/worker/jobs/:id/assets/:index': 'upload',
  'POST /api/worker/jobs/:id/complete': 'complete',
};

export function perJobCounters(diff: Counters, jobs: number): CounterCost {
  const storage = new Map<string, number>();
  const http = new Map<string, number>();
  let sql = 0;
  let fsyncs = 0;
  for (const [k, v] of diff) {
    const [name, labelText = ''] = k.replace(/\}$/, '').split('{');
    const labels = Object.fromEntries(labelText.split(',').filter(Boolean).map((p) => p.split('=', 2) as [string, string]));
    if (name === 'atelier_db_statements_total') sql += v;
    else if (name === 'atelier_storage_fsyncs_total') fsyncs += v;
    else if (name === 'atelier_storage_requests_total') storage.set(labels.op ?? '?', (storage.get(labels.op ?? '?') ?? 0) + v);
    else if (name === 'atelier_http_requests_total') {
      // The bench's own scrapes of /metrics are not part of any job.
      if (labels.route === '/metrics') continue;
      const route = `${labels.method} ${labels.route}`;
      const short = ROUTE_NAMES[route] ?? route;
      http.set(short, (http.get(short) ?? 0) + v);
    }
  }
  const each = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / jobs]));
  return { sql: sql / jobs, storage: each(storage), fsyncs: fsyncs / jobs, http: each(http) };
}
