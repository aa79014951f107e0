import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';
import { counterDiff, perJobCounters, readRegistry } from './cost-counters.js';
import type { JobCost } from './job-cost.js';
import { noWorkBackend, useNoWorkModel } from './no-work-backend.js';
import { benchProcessGroup, cpuSpent, readCpu } from './process-cpu.js';

export interface OrchestrationResult {
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** What each job of the saturated run cost; CPU is this whole process (server and clients). */
  readonly cost: JobCost;
}

/**
 * Jobs through the whole embedded path — HTTP submit over real sockets, SQLite records and
 * queue, runner claim/complete, event log, thumbnail, atomic file writes — with a backend
 * that does no work. Throughput is measured saturated (`clients` submitting at once);
 * latency unloaded (one job at a time), so it is not just time spent waiting in line.
 * Every job has its own seed and the prompt cache is off: each one reaches the runner (cache
 * hits have their own figure, bench/cache-hit-latency.ts).
 */
export async function benchOrchestration(jobs: number, clients: number, latencyJobs: number): Promise<OrchestrationResult> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-'));
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', RUNNER_CONCURRENCY: '2', CACHE_DEFAULT_MODE: 'off', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', SAFETY_POLICY: 'off' }, dir);
  useNoWorkModel(config);
  const server = await createServer(config, { backends: new Map([['no-work', await noWorkBackend()]]) });
  const url = await server.listen();
  const token = server.adminToken.token!;

  // Terminal events can arrive before the submitting request has read its runId.
  const finishedAt = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const unsubscribe = server.events.subscribe('*', (event) => {
    if (event.type !== 'succeeded' && event.type !== 'failed') return;
    const waiter = waiters.get(event.jobId);
    if (waiter) waiter(performance.now());
    else finishedAt.set(event.jobId, performance.now());
  });
  const terminal = (runId: string) =>
    new Promise<number>((resolve) => {
      const at = finishedAt.get(runId);
      if (at !== undefined) resolve(at);
      else waiters.set(runId, resolve);
    });
  let seed = 0;
  const submit = async () => {
    const response = await fetch(`${url}/api/generate/text-to-image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'benchmark', steps: 1, seed: seed++ }),
    });
    return ((await response.json()) as { runId: string }).runId;
  };

  const countersBefore = await readRegistry(server.metrics.registry);
  const cpuBefore = readCpu([benchProcessGroup]);
  const started = performance.now();
  let next = 0;
  const done: Promise<number>[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < jobs) {
        next++;
        done.push(terminal(await submit()));
      }
    }),
  );
  await Promise.all(done);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSpent(cpuBefore, readCpu([benchProcessGroup]));
  const counters = perJobCounters(counterDiff(countersBefore, await readRegistry(server.metrics.registry)), jobs);

  const latencies: number[] = [];
  for (let i = 0; i < latencyJobs; i++) {
    const sent = performance.now();
    latencies.push((await terminal(await submit())) - sent);
  }
  unsubscribe();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const cost: JobCost = { ...counters, cpuMs: new Map([['nodes', cpu.get('bench')! / jobs], ['other', cpu.get('other')! / jobs]]), jobsPerSecond: jobs / seconds };
  return { jobs, seconds, jobsPerSecond: jobs / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99), cost };
}
