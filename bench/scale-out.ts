import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startCluster } from '../test/helpers/cluster.js';
import { S3RVER_CREDENTIALS, startS3TestServer } from '../test/helpers/s3-test-server.js';
import { startSimulatedWorker } from './simulated-worker.js';

/**
 * Issue 8's figure: jobs per second with a no-work backend through the scale-out deployment
 * (2 `atelier serve` processes on PostgreSQL + Redis/BullMQ + S3, 2 simulated workers pulling
 * over HTTP) against raw BullMQ pushing and completing the same number of no-op jobs on the same
 * Redis, in the same run. Both submit 20 at a time and run 2 workers × 2 concurrent jobs.
 */
export interface ScaleOutFigures {
  readonly scaleOutJobsPerSecond?: number;
  readonly rawBullmqJobsPerSecond?: number;
  readonly note?: string;
}

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function benchScaleOut(jobs: number): Promise<ScaleOutFigures> {
  try {
    const rawBullmqJobsPerSecond = await rawBullmq(jobs);
    const scaleOutJobsPerSecond = await atelierScaleOut(jobs);
    return { scaleOutJobsPerSecond, rawBullmqJobsPerSecond };
  } catch (error) {
    return { note: `unavailable (${(error as Error).message.split('\n')[0]})` };
  }
}

async function rawBullmq(jobs: number): Promise<number> {
  const prefix = `atelier-bench-raw-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let completed = 0;
  const workers = [0, 1].map(
    () => new Worker('raw', async () => undefined, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 2 }),
  );
  for (const worker of workers) worker.on('completed', () => completed++);
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const started = performance.now();
  for (let i = 0; i < jobs; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, jobs - i) }, (_, j) => queue.add('noop', { n: i + j }, { removeOnComplete: true })));
  }
  while (completed < jobs) await new Promise((r) => setTimeout(r, 2));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map(async (w) => { await w.close(); }));
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  for (const worker of workers) (await worker.client).disconnect();
  return jobs / seconds;
}

async function atelierScaleOut(jobs: number): Promise<number> {
  const bucket = 'atelier-bench';
  const s3 = await startS3TestServer([bucket]);
  const cluster = await startCluster(2, { postgresUrl: POSTGRES_URL, redisUrl: REDIS_URL, s3: { endpoint: s3.endpoint, bucket, ...S3RVER_CREDENTIALS } });
  try {
    const nodes = cluster.nodes;
    const admin = { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${nodes[0]!.url}/api/admin/workers`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench' }) });
    const workerToken = ((await created.json()) as { token: string }).token;
    const workers = nodes.map((node) => startSimulatedWorker(node.url, workerToken, 0));
    const done = () => workers.reduce((n, w) => n + w.done(), 0);
    const started = performance.now();
    for (let i = 0; i < jobs; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, jobs - i) }, (_, j) =>
          fetch(`${nodes[(i + j) % nodes.length]!.url}/api/generate/text-to-image`, { method: 'POST', headers: admin, body: JSON.stringify({ prompt: `job ${i + j}`, seed: i + j }) }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    while (done() < jobs) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(workers.map((w) => w.stop()));
    return jobs / seconds;
  } finally {
    await cluster.close();
    await dropSchema(cluster.schema);
    await s3.close();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
