import { cpus } from 'node:os';
import type { CounterCost } from './cost-counters.js';

/**
 * What one job cost in a run, everything divided by the jobs of the timed window: Atelier's
 * own counters (absent for raw BullMQ), Redis commands (server-wide) and CPU ms by process
 * group, plus the run's throughput so the table can say how busy the machine was.
 */
export interface JobCost extends Partial<CounterCost> {
  readonly jobsPerSecond: number;
  readonly redisCommands?: number;
  /**
   * CPU ms per job by process group: node(s), workers, postgres, redis, s3, bench; `other` is
   * the rest of the machine meanwhile (not part of the run).
   */
  readonly cpuMs: ReadonlyMap<string, number>;
  /** Whether storage was S3 (then put+copy are "S3 writes"). */
  readonly s3?: boolean;
}

const num = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n === 0 ? '0' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

const STORAGE_OPS = ['put', 'get', 'stat', 'delete', 'copy', 'list'];
const ROUTES = ['submit', 'claim', 'heartbeat', 'upload', 'complete'];
const CPU_GROUPS = ['nodes', 'workers', 'postgres', 'redis', 's3', 'bench'];
const CPU_LABEL: Record<string, string> = {
  nodes: 'atelier node(s)',
  workers: 'simulated worker(s)',
  postgres: 'PostgreSQL (all processes)',
  redis: 'redis-server',
  s3: 'S3 server (s3rver + proxy)',
  bench: 'bench process (submitters)',
};

/**
 * The "per-job cost" table: one column per run, one row per figure, so runs compare across.
 * Routes other than the five of a job's life get rows of their own when any run used them.
 */
export function costTable(columns: readonly { readonly name: string; readonly cost: JobCost }[]): string[][] {
  const rows: string[][] = [];
  const row = (label: string, value: (c: JobCost) => number | undefined) => rows.push([label, ...columns.map(({ cost }) => num(value(cost)))]);
  row('jobs/s in this run', (c) => c.jobsPerSecond);
  row('SQL statements', (c) => c.sql);
  for (const op of STORAGE_OPS) row(`storage ${op}`, (c) => (c.storage ? (c.storage.get(op) ?? 0) : undefined));
  row('  S3 writes (put+copy)', (c) => (c.s3 && c.storage ? (c.storage.get('put') ?? 0) + (c.storage.get('copy') ?? 0) : undefined));
  row('fsyncs (disk storage)', (c) => c.fsyncs);
  // Only routes some run used per job (not the bench's one-off set-up requests).
  const otherRoutes = [...new Set(columns.flatMap(({ cost }) => [...(cost.http ?? [])].filter(([, n]) => n >= 0.01).map(([r]) => r)))].filter((r) => !ROUTES.includes(r)).sort();
  for (const route of [...ROUTES, ...otherRoutes]) row(`HTTP ${route}`, (c) => (c.http ? (c.http.get(route) ?? 0) : undefined));
  row('Redis commands (server-wide)', (c) => c.redisCommands);
  for (const group of CPU_GROUPS) row(`CPU ms: ${CPU_LABEL[group]}`, (c) => c.cpuMs.get(group));
  const ours = (c: JobCost) => [...c.cpuMs].reduce((sum, [group, ms]) => (group === 'other' ? sum : sum + ms), 0);
  row('CPU ms: total of the above', ours);
  row(`CPU busy, cores (of ${cpus().length})`, (c) => (ours(c) * c.jobsPerSecond) / 1000);
  // Anything else on the machine meanwhile (another test suite): a large figure means the run
  // was disturbed and its throughput reads low.
  row('  other processes on the machine, cores', (c) => ((c.cpuMs.get('other') ?? NaN) * c.jobsPerSecond) / 1000);
  return [['per job', ...columns.map((c) => c.name)], ...rows];
}
