import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A backend that returns at once with nothing: what is left is Atelier's own overhead. */
const noWorkBackend: Backend = {
  kind: 'no-work',
  label: 'no-work benchmark backend',
  capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 4096, maxHeight: 4096, maxSteps: 150, maxBatch: 8, cancel: true, preview: false },
  async generate() {
    return [];
  },
};

/**
 * Jobs through the whole embedded path — HTTP submit (real sockets), SQLite records and
 * queue, runner claim/complete, event log — with a backend that does no work.
 */
export async function benchOrchestration(jobs: number, clients: number): Promise<OrchestrationResult> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-'));
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', RUNNER_CONCURRENCY: '2' }, dir);
  config.models = [{ name: 'no-work', backend: 'no-work', label: 'no work', modes: ['t2i'], baseResolution: 512, defaultSteps: 1, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }];
  const server = await createServer(config, { backends: new Map([['no-work', noWorkBackend]]) });
  const url = await server.listen();
  const token = server.adminToken.token!;

  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const early = new Map<string, number>();
  const unsubscribe = server.events.subscribe('*', (event) => {
    if (event.type !== 'succeeded' && event.type !== 'failed') return;
    const start = submittedAt.get(event.jobId);
    if (start === undefined) early.set(event.jobId, performance.now());
    else latencies.push(performance.now() - start);
    if (latencies.length + early.size === jobs) allDone();
  });

  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < jobs) {
        next++;
        const sent = performance.now();
        const response = await fetch(`${url}/api/generate/text-to-image`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'benchmark', steps: 1, seed: 1 }),
        });
        const { runId } = (await response.json()) as { runId: string };
        const done = early.get(runId);
        if (done !== undefined) {
          early.delete(runId);
          latencies.push(done - sent);
        } else submittedAt.set(runId, sent);
      }
    }),
  );
  await finished;
  const seconds = (performance.now() - started) / 1000;
  unsubscribe();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { jobs, seconds, jobsPerSecond: jobs / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}
