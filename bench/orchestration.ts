import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Backend } from '../src/backends/backend.js';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';

export interface OrchestrationResult {
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * A backend that answers at once with a ready-made 64×64 PNG per image: what is left is
 * Atelier's own overhead — records, queue, events, thumbnail, provenance, atomic writes.
 */
function noWorkBackend(png: Buffer): Backend {
  return {
    kind: 'no-work',
    label: 'no-work benchmark backend',
    capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 4096, maxHeight: 4096, maxSteps: 150, maxBatch: 8, cancel: true, preview: false },
    async generate(spec) {
      return Array.from({ length: spec.numImages }, (_, index) => ({ kind: 'image' as const, index, seed: spec.seed + index, width: 64, height: 64, data: png }));
    },
  };
}

/**
 * Jobs through the whole embedded path — HTTP submit over real sockets, SQLite records and
 * queue, runner claim/complete, event log, thumbnail, atomic file writes — with a backend
 * that does no work. Throughput is measured saturated (`clients` submitting at once);
 * latency unloaded (one job at a time), so it is not just time spent waiting in line.
 */
export async function benchOrchestration(jobs: number, clients: number, latencyJobs: number): Promise<OrchestrationResult> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-'));
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', RUNNER_CONCURRENCY: '2' }, dir);
  config.models = [{ name: 'no-work', backend: 'no-work', label: 'no work', modes: ['t2i'], baseResolution: 512, defaultSteps: 1, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }];
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
  const server = await createServer(config, { backends: new Map([['no-work', noWorkBackend(png)]]) });
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
  const submit = async () => {
    const response = await fetch(`${url}/api/generate/text-to-image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'benchmark', steps: 1, seed: 1 }),
    });
    return ((await response.json()) as { runId: string }).runId;
  };

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
  return { jobs, seconds, jobsPerSecond: jobs / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}
