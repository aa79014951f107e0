import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startCluster } from '../test/helpers/cluster.js';
import { deleteRedisPrefix } from '../test/helpers/redis.js';
import { S3RVER_CREDENTIALS } from '../test/helpers/s3-test-server.js';
import { counterDiff, perJobCounters, readMetricsEndpoint, sumCounters } from './cost-counters.js';
import type { JobCost } from './job-cost.js';
import { benchProcessGroup, cpuSpent, readCpu, sharedServerGroups, type ProcessGroup } from './process-cpu.js';
import { redisCommandCounter } from './redis-commands.js';
import { startS3ServerProcess } from './s3-server-process.js';
import { forkSimulatedWorker } from './worker-process.js';

/**
 * Issue 8's and 13's figure: jobs per second with a no-work backend through the scale-out
 * deployment — N `atelier serve` processes on PostgreSQL + Redis/BullMQ, each with one
 * simulated worker (its own process) pulling over HTTP — on S3 (s3rver in its own process)
 * and on disk (every node on one shared MEDIA_DIR), for N = 1, 2, 4. The reference is raw
 * BullMQ pushing and completing the same number of no-op jobs on the same Redis in the same
 * run (2 workers × 2 concurrent jobs). Everything submits 20 at a time. Each run also reports
 * what a job cost, per process group, read from /proc and each node's /metrics.
 */
export type StorageKind = 's3' | 'disk';

export interface ScaleOutRun {
  readonly storage: StorageKind;
  readonly nodes: number;
  readonly jobsPerSecond?: number;
  readonly cost?: JobCost;
  readonly note?: string;
}

export interface ScaleOutFigures {
  readonly raw?: { readonly jobsPerSecond: number; readonly cost: JobCost };
  readonly runs: readonly ScaleOutRun[];
  readonly note?: string;
}

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Jobs each node gets done before the timed window: connection pools, JIT, lanes warm. */
const WARM_UP_JOBS_PER_NODE = 10;
const STALL_MS = 30_000;

const firstLine = (error: unknown) => `unavailable (${((error as Error).message ?? String(error)).split('\n')[0]})`;

export async function benchScaleOut(jobs: number, scales: readonly number[] = [1, 2, 4], storages: readonly StorageKind[] = ['s3', 'disk']): Promise<ScaleOutFigures> {
  let raw: ScaleOutFigures['raw'];
  try {
    raw = await rawBullmq(jobs);
  } catch (error) {
    return { runs: [], note: firstLine(error) };
  }
  const runs: ScaleOutRun[] = [];
  for (const storage of storages) {
    for (const nodes of scales) {
      try {
        runs.push({ storage, nodes, ...(await atelierScaleOut(jobs, nodes, storage)) });
      } catch (error) {
        runs.push({ storage, nodes, note: firstLine(error) });
      }
    }
  }
  return { raw, runs };
}

/** Reads everything a run's cost is made of; `finish` turns two readings into per-job figures. */
async function costProbe(groups: ProcessGroup[], counters?: () => Promise<ReadonlyMap<string, number>>) {
  const redis = redisCommandCounter(REDIS_URL);
  const read = async () => {
    // CPU last before the window and first after it, so the probes' own work stays outside.
    const c = await counters?.();
    const commands = await redis.read();
    return { counters: c, commands, cpu: readCpu(groups) };
  };
  const before = await read();
  const started = performance.now();
  return async (jobs: number, s3: boolean): Promise<JobCost> => {
    const seconds = (performance.now() - started) / 1000;
    const cpu = readCpu(groups);
    const commands = await redis.read();
    const c = await counters?.();
    redis.close();
    const cpuMs = new Map([...cpuSpent(before.cpu, cpu)].map(([name, ms]) => [name, ms / jobs]));
    return {
      ...(c && before.counters ? perJobCounters(counterDiff(before.counters, c), jobs) : {}),
      jobsPerSecond: jobs / seconds,
      redisCommands: (commands - before.commands) / jobs,
      cpuMs,
      s3,
    };
  };
}

async function rawBullmq(jobs: number): Promise<{ jobsPerSecond: number; cost: JobCost }> {
  const prefix = `atelier-bench-raw-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let completed = 0;
  const workers = [0, 1].map(
    () => new Worker('raw', async () => undefined, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 2 }),
  );
  for (const worker of workers) worker.on('completed', () => completed++);
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const finish = await costProbe([benchProcessGroup, ...sharedServerGroups]);
  for (let i = 0; i < jobs; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, jobs - i) }, (_, j) => queue.add('noop', { n: i + j }, { removeOnComplete: true })));
  }
  while (completed < jobs) await new Promise((r) => setTimeout(r, 2));
  const cost = await finish(jobs, false);
  await Promise.all(workers.map(async (w) => { await w.close(); }));
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  for (const worker of workers) (await worker.client).disconnect();
  return { jobsPerSecond: cost.jobsPerSecond, cost };
}

async function atelierScaleOut(jobs: number, nodeCount: number, storage: StorageKind): Promise<{ jobsPerSecond: number; cost: JobCost }> {
  const bucket = 'atelier-bench';
  const s3 = storage === 's3' ? await startS3ServerProcess([bucket]) : undefined;
  const cluster = await startCluster(nodeCount, { postgresUrl: POSTGRES_URL, redisUrl: REDIS_URL, ...(s3 ? { s3: { endpoint: s3.endpoint, bucket, ...S3RVER_CREDENTIALS } } : {}) }).catch(async (error: unknown) => {
    await s3?.close();
    throw error;
  });
  const workers: ReturnType<typeof forkSimulatedWorker>[] = [];
  try {
    const nodes = cluster.nodes;
    const admin = { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${nodes[0]!.url}/api/admin/workers`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench' }) });
    const workerToken = ((await created.json()) as { token: string }).token;
    workers.push(...nodes.map((node) => forkSimulatedWorker(node.url, workerToken)));
    const done = () => workers.reduce((n, w) => n + w.done(), 0);
    let submitted = 0;
    const submitAll = async (count: number) => {
      for (let i = 0; i < count; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, count - i) }, () => {
            const n = submitted++;
            return fetch(`${nodes[n % nodes.length]!.url}/api/generate/text-to-image`, { method: 'POST', headers: admin, body: JSON.stringify({ prompt: `job ${n}`, seed: n }) }).then((r) => r.arrayBuffer());
          }),
        );
      }
      // A run that stops making progress (a worker died, jobs fail to complete) fails instead
      // of waiting forever.
      let progress = { done: done(), at: Date.now() };
      while (done() < submitted) {
        await new Promise((r) => setTimeout(r, 5));
        const dead = workers.find((w) => w.exited())?.exited();
        if (dead) throw new Error(dead);
        if (done() !== progress.done) progress = { done: done(), at: Date.now() };
        else if (Date.now() - progress.at > STALL_MS) throw new Error(`no job completed for ${STALL_MS / 1000} s (${done()}/${submitted} done)`);
      }
    };

    await submitAll(WARM_UP_JOBS_PER_NODE * nodeCount);
    const groups: ProcessGroup[] = [
      { name: 'nodes', pids: () => nodes.map((n) => n.process.pid!), withChildren: true },
      { name: 'workers', pids: () => workers.map((w) => w.pid), withChildren: true },
      ...sharedServerGroups,
      ...(s3 ? [{ name: 's3', pids: () => [s3.pid], withChildren: true }] : []),
      benchProcessGroup,
    ];
    const finish = await costProbe(groups, async () => sumCounters(await Promise.all(nodes.map((n) => readMetricsEndpoint(n.url, cluster.adminToken)))));
    await submitAll(jobs);
    const cost = await finish(jobs, storage === 's3');
    return { jobsPerSecond: cost.jobsPerSecond, cost };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await cluster.close();
    await dropSchema(cluster.schema);
    await deleteRedisPrefix(cluster.redisPrefix).catch(() => undefined);
    await s3?.close();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
