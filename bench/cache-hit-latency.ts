import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';
import { counterDiff, perJobCounters, readRegistry } from './cost-counters.js';
import type { JobCost } from './job-cost.js';
import { noWorkBackend, useNoWorkModel } from './no-work-backend.js';
import { benchProcessGroup, cpuSpent, readCpu } from './process-cpu.js';

export interface CacheHitLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** How many of the timed submits were answered from the cache (all, unless something broke). */
  readonly hits: number;
  readonly submits: number;
  readonly cost: JobCost;
}

/**
 * Issue 13's cache-hit target (p50 ≤ 10 ms): the embedded server with the no-work backend and
 * the prompt cache on. One submit primes the cache; then `submits` identical submits, one at a
 * time, are timed submit→terminal. A hit answers `succeeded` in the submit response itself, so
 * its terminal time is the response time; anything else waits for its terminal event.
 */
export async function benchCacheHitLatency(submits = 200): Promise<CacheHitLatency> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-hit-'));
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', CACHE_DEFAULT_MODE: 'seed-aware', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', SAFETY_POLICY: 'off' }, dir);
  useNoWorkModel(config);
  const server = await createServer(config, { backends: new Map([['no-work', await noWorkBackend()]]) });
  const url = await server.listen();
  const headers = { authorization: `Bearer ${server.adminToken.token}`, 'content-type': 'application/json' };
  const terminal = new Map<string, () => void>();
  const finished = new Set<string>();
  const unsubscribe = server.events.subscribe('*', (event) => {
    if (event.type !== 'succeeded' && event.type !== 'failed') return;
    finished.add(event.jobId);
    terminal.get(event.jobId)?.();
  });
  const body = JSON.stringify({ prompt: 'benchmark cache hit', steps: 1, seed: 42 });
  async function timed(): Promise<{ ms: number; cached: boolean }> {
    const started = performance.now();
    const run = (await (await fetch(`${url}/api/generate/text-to-image`, { method: 'POST', headers, body })).json()) as { runId: string; status: string; cached?: boolean };
    if (run.status !== 'succeeded' && !finished.has(run.runId)) await new Promise<void>((resolve) => terminal.set(run.runId, resolve));
    return { ms: performance.now() - started, cached: run.cached === true };
  }
  try {
    await timed();
    const countersBefore = await readRegistry(server.metrics.registry);
    const cpuBefore = readCpu([benchProcessGroup]);
    const started = performance.now();
    const results: { ms: number; cached: boolean }[] = [];
    for (let i = 0; i < submits; i++) results.push(await timed());
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSpent(cpuBefore, readCpu([benchProcessGroup]));
    const counters = perJobCounters(counterDiff(countersBefore, await readRegistry(server.metrics.registry)), submits);
    const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    return {
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      hits: results.filter((r) => r.cached).length,
      submits,
      cost: { ...counters, jobsPerSecond: submits / seconds, cpuMs: new Map([['nodes', cpu.get('bench')! / submits], ['other', cpu.get('other')! / submits]]) },
    };
  } finally {
    unsubscribe();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
