import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerSentEvents } from '../../src/cli/sse-client.js';
import { createS3Storage } from '../../src/storage/s3/s3-storage.js';
import { startCluster, type Cluster, type WorkerProcess } from '../helpers/cluster.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';
import { killAllSpawned } from '../helpers/spawn-server.js';
import { POSTGRES_URL } from '../helpers/postgres.js';
import { REDIS_URL } from '../helpers/redis.js';

/**
 * SPEC §1/§9 at scale: 2 `atelier serve` nodes and 2 `atelier worker`s on PostgreSQL, Redis
 * (BullMQ) and an S3-protocol server. 250 jobs go in through both nodes; one node and one
 * worker are SIGKILLed mid-run and started again. Afterwards every job is terminal, none has
 * two sets of assets, every stored object exists, and an SSE client on the surviving node
 * saw every job end.
 */
const BUCKET = 'atelier-cluster';
const JOBS = 250;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

describe('scale-out: 2 nodes + 2 workers on PostgreSQL, Redis and S3', () => {
  let s3: S3TestServer;
  let cluster: Cluster;
  let database: pg.Client;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    s3 = await startS3TestServer([BUCKET]);
    cluster = await startCluster(2, {
      postgresUrl: POSTGRES_URL,
      redisUrl: REDIS_URL,
      s3: { endpoint: s3.endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS },
      // Short leases so the killed worker's jobs come back within the test.
      env: { LEASE_SECONDS: '4' },
    });
    database = new pg.Client({ connectionString: POSTGRES_URL });
    await database.connect();
  }, 90_000);

  afterAll(async () => {
    await cluster?.close();
    await killAllSpawned();
    if (database) {
      await database.query(`DROP SCHEMA IF EXISTS ${cluster.schema} CASCADE`).catch(() => undefined);
      await database.end();
    }
    await s3?.close();
  }, 60_000);

  it('loses nothing and duplicates nothing when a node and a worker die mid-run', async () => {
    const [nodeA, nodeB] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const admin = { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${nodeA.url}/api/admin/workers`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'gpu-pool' }) });
    expect(created.status).toBe(201);
    const workerToken = ((await created.json()) as { token: string }).token;

    // Submit through both nodes, alternating, as a round-robin load balancer would.
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, JOBS - i) }, async (_, j) => {
          const n = i + j;
          const node = n % 2 === 0 ? nodeA : nodeB;
          const response = await fetch(`${node.url}/api/generate/text-to-image`, { method: 'POST', headers: admin, body: JSON.stringify({ prompt: `cluster job ${n}`, seed: n }) });
          expect(response.status).toBe(202);
          return ((await response.json()) as { runId: string }).runId;
        }),
      );
      jobIds.push(...batch);
    }
    expect(new Set(jobIds).size).toBe(JOBS);

    // One SSE client on node B follows every job, wherever it runs.
    const terminalSeen = new Map<string, string>();
    const streams = jobIds.map((id) => followToTerminal(nodeB.url, cluster.adminToken, id, terminalSeen));

    workers.push(await cluster.startWorker(0, nodeA.url, workerToken), await cluster.startWorker(1, nodeB.url, workerToken));

    // Mid-run: once a fifth of the jobs are done, node A and worker 0 die without warning.
    await waitFor(async () => (await countTerminal(jobIds)) >= JOBS / 5, 120_000, 'a fifth of the jobs to finish');
    await Promise.all([nodeA.kill('SIGKILL'), workers[0]!.kill('SIGKILL')]);
    const doneAtKill = await countTerminal(jobIds);
    expect(doneAtKill).toBeLessThan(JOBS);
    await new Promise((r) => setTimeout(r, 1000));
    const restarted = await cluster.startNode(0);
    workers[0] = await cluster.startWorker(0, restarted.url, workerToken);

    await waitFor(async () => (await countTerminal(jobIds)) === JOBS, 240_000, 'every job to be terminal');

    // Every job is terminal in the shared database, and succeeded (nothing here should fail).
    const jobs = await database.query<{ id: string; status: string; num_images: number }>(`SELECT id, status, num_images FROM ${cluster.schema}.jobs WHERE id = ANY($1)`, [jobIds]);
    expect(jobs.rows).toHaveLength(JOBS);
    const statuses = countBy(jobs.rows.map((r) => r.status));
    expect(statuses).toEqual({ succeeded: JOBS });

    // One set of assets per job: exactly num_images rows, indexes 0…n-1, no more.
    const assets = await database.query<{ job_id: string; asset_index: number; storage_key: string; thumbnail_key: string | null; variants: string }>(
      `SELECT job_id, asset_index, storage_key, thumbnail_key, variants FROM ${cluster.schema}.assets WHERE job_id = ANY($1)`,
      [jobIds],
    );
    const perJob = countBy(assets.rows.map((a) => a.job_id));
    for (const job of jobs.rows) expect(perJob[job.id], `assets of ${job.id}`).toBe(job.num_images);

    // Every object an asset row names exists in the bucket.
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    const keys = assets.rows.flatMap((a) => [a.storage_key, ...(a.thumbnail_key ? [a.thumbnail_key] : []), ...(JSON.parse(a.variants) as { key: string }[]).map((v) => v.key)]);
    expect(keys.length).toBeGreaterThanOrEqual(JOBS * 2);
    const missing: string[] = [];
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key) => client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => missing.push(key))),
      );
    }
    client.destroy();
    expect(missing).toEqual([]);

    // And no bytes without a row: every workspace object in the bucket is an asset's file,
    // including what the killed node and worker were writing when they died.
    const bucket = await createS3Storage({ bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    const owned = new Set(keys);
    const unowned: string[] = [];
    for await (const object of bucket.list('workspace-temp/')) if (!owned.has(object.key)) unowned.push(object.key);
    for await (const object of bucket.list('job-inputs/')) unowned.push(object.key);
    bucket.close();
    expect(unowned).toEqual([]);

    // The SSE client on node B, which never went down, saw each job's terminal event.
    await Promise.race([Promise.all(streams), new Promise((r) => setTimeout(r, 30_000))]);
    const unseen = jobIds.filter((id) => terminalSeen.get(id) !== 'succeeded');
    expect(unseen).toEqual([]);
  }, 420_000);

  async function countTerminal(ids: string[]): Promise<number> {
    const result = await database.query<{ n: string }>(`SELECT count(*) AS n FROM ${cluster.schema}.jobs WHERE id = ANY($1) AND status = ANY($2)`, [ids, [...TERMINAL]]);
    return Number(result.rows[0]!.n);
  }
});

/** Follows one job's SSE stream until its terminal event, reconnecting (with Last-Event-ID) if cut. */
async function followToTerminal(baseUrl: string, token: string, jobId: string, seen: Map<string, string>): Promise<void> {
  let lastEventId: string | undefined;
  for (let attempt = 0; attempt < 20 && !seen.has(jobId); attempt++) {
    try {
      const response = await fetch(`${baseUrl}/api/status/stream/${jobId}`, { headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
      if (!response.ok || !response.body) throw new Error(`stream ${response.status}`);
      for await (const event of readServerSentEvents(response.body)) {
        if (event.id) lastEventId = event.id;
        if (event.event && TERMINAL.has(event.event)) {
          seen.set(jobId, event.event);
          return;
        }
      }
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
