import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSchema, type TestSchema } from '../helpers/postgres.js';
import { deleteRedisPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { killAllSpawned, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { isTerminal, runStatus, type RunStatus } from '../helpers/spawned-runs.js';

/**
 * Recovery in seconds: a node killed with -9 while it runs a job, then restarted with the same
 * identity (its data directory), takes that job back at once — not when its lease expires —
 * and runs it again ahead of the jobs that were queued behind it. The lease is 120 s, so a
 * recovery that waited for expiry could not pass the 30 s bound.
 */

const LEASE_SECONDS = 120;
const RECOVERY_BOUND_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(server: SpawnedServer, token: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${server.url}/api/generate/text-to-image`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as RunStatus).runId;
}

const modes: { name: string; env: () => Promise<{ env: Record<string, string>; cleanUp: () => Promise<void> }> }[] = [
  { name: 'embedded (SQLite, SQL queue)', env: async () => ({ env: {}, cleanUp: async () => {} }) },
  {
    name: 'scale-out (PostgreSQL, BullMQ on Redis)',
    env: async () => {
      const schema: TestSchema = testSchema();
      const prefix = uniqueRedisPrefix();
      return {
        env: { DATABASE_URL: schema.url, REDIS_URL, REDIS_PREFIX: prefix },
        cleanUp: async () => {
          await schema.drop();
          await deleteRedisPrefix(prefix);
        },
      };
    },
  },
];

describe.each(modes)('kill -9 and restart: $name', ({ env: makeEnv }) => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let cleanUp = async () => {};

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-recovery-');
  });

  afterAll(async () => {
    await killAllSpawned();
    await cleanUp();
    await tmp?.remove();
  });

  it('takes back the running job at once and runs it before the jobs queued after it', { timeout: 120_000 }, async () => {
    const mode = await makeEnv();
    cleanUp = mode.cleanUp;
    const dataDir = join(tmp.dir, 'node');
    await mkdir(dataDir);
    const env = { ...mode.env, DATA_DIR: dataDir, LEASE_SECONDS: String(LEASE_SECONDS), RUNNER_CONCURRENCY: '1', MAX_ATTEMPTS: '3', LOG_LEVEL: 'warn' };

    const first = await spawnServer({ env, timeoutMs: 30_000 });
    const token = first.token!;
    // A is long enough to be killed mid-render; B and C are queued behind it.
    const a = await submit(first, token, { prompt: 'a long render', width: 1024, height: 1024, steps: 60, num_images: 2, seed: 7 });
    const behind = [await submit(first, token, { prompt: 'queued behind', width: 64, height: 64, steps: 2, seed: 1 }), await submit(first, token, { prompt: 'queued behind too', width: 64, height: 64, steps: 2, seed: 2 })];

    for (const deadline = Date.now() + 30_000; ; ) {
      const run = await runStatus(first, token, a);
      if (run.status === 'running' && run.progress.step >= 1) break;
      if (isTerminal(run.status)) throw new Error(`job A finished before the kill: ${run.status}`);
      if (Date.now() > deadline) throw new Error(`job A never started rendering: ${JSON.stringify(run)}`);
      await sleep(10);
    }
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

    const second = await spawnServer({ env, timeoutMs: 30_000 });
    const ready = Date.now();
    let recoveredAfterMs = -1;
    for (;;) {
      const run = await runStatus(second, token, a);
      if (run.attempts >= 2 && (run.status === 'running' || run.status === 'succeeded')) {
        recoveredAfterMs = Date.now() - ready;
        // With one runner, A's second attempt came first: the jobs behind it have not run.
        for (const id of behind) expect((await runStatus(second, token, id)).attempts, `job ${id} ran before the recovered job`).toBe(0);
        break;
      }
      if (Date.now() - ready > RECOVERY_BOUND_MS) throw new Error(`job A was not taken back within ${RECOVERY_BOUND_MS} ms: ${JSON.stringify(run)}`);
      await sleep(20);
    }
    console.info(`recovery: attempt 2 of the killed job started ${recoveredAfterMs} ms after /healthz answered`);
    expect(recoveredAfterMs).toBeLessThan(RECOVERY_BOUND_MS);

    const all = [a, ...behind];
    let finals: RunStatus[] = [];
    for (const deadline = Date.now() + 60_000; ; ) {
      finals = await Promise.all(all.map((id) => runStatus(second, token, id)));
      if (finals.every((run) => isTerminal(run.status))) break;
      if (Date.now() > deadline) throw new Error(`unfinished after restart: ${JSON.stringify(finals.map((r) => [r.status, r.attempts]))}`);
      await sleep(100);
    }
    expect(finals.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(finals[0]!.attempts).toBe(2);
    expect(finals[0]!.assets).toHaveLength(2);
    await second.stop(10_000);
  });
});
