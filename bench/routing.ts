import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Backend } from '../src/backends/backend.js';
import { createRoutedBackend } from '../src/backends/routing/routed-backend.js';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';

/**
 * K simulated GPUs that take L ms per job, N jobs through the whole path (HTTP submit →
 * queue → routing → backend → post-processing → storage → records). The figure is makespan
 * divided by the ideal N·L/K: 1.00 means the GPUs never waited on Atelier.
 */
export interface RoutingFigures {
  readonly makespanMs: number;
  readonly idealMs: number;
  readonly ratio: number;
  /** Per job, mean ms a GPU sat free between returning one job and being handed the next. */
  readonly idleBetweenMs: number;
  /** Per job, mean ms a simulated render ran past L: its timer firing late, not Atelier's routing. */
  readonly overrunMs: number;
}

export async function benchRouting(k = 4, latencyMs = 200, jobs = 400): Promise<RoutingFigures> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#446688' } }).png().toBuffer();
  // Each GPU's renders as [start, end] pairs, to split the makespan's excess into the time a GPU
  // waited for work and the time its simulated render overran.
  const renders: [number, number][][] = Array.from({ length: k }, () => []);
  const gpu = (i: number): Backend => ({
    kind: 'simulated',
    label: `simulated GPU ${i}`,
    capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 4096, maxHeight: 4096, maxSteps: 150, maxBatch: 8, cancel: true, preview: false, hiresFix: false },
    async generate(spec, ctx) {
      const start = performance.now();
      ctx.onProgress({ step: 0, totalSteps: 1 });
      await new Promise((r) => setTimeout(r, latencyMs));
      renders[i]!.push([start, performance.now()]);
      return [{ kind: 'image', index: 0, seed: spec.seed, width: 64, height: 64, data: png }];
    },
  });
  const routed = createRoutedBackend(Array.from({ length: k }, (_, i) => gpu(i)), {
    perInstanceConcurrency: 1,
    healthIntervalMs: 60_000,
    breaker: { failureThreshold: 3, cooldownMs: 30_000 },
    timeouts: { warmupMs: 300_000, generationMs: 600_000 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-routing-'));
  // Twice as many runner loops as GPUs: while one loop stores a result, another already
  // holds the GPU, so post-processing never leaves a GPU idle.
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', RUNNER_CONCURRENCY: String(2 * k), RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', SAFETY_POLICY: 'off', CACHE_DEFAULT_MODE: 'off' }, dir);
  config.models = [{ name: 'sim', backend: 'sim', label: 'simulated', modes: ['t2i'], baseResolution: 64, defaultSteps: 1, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }];
  const server = await createServer(config, { backends: new Map([['sim', routed]]) });
  const url = await server.listen();
  const headers = { authorization: `Bearer ${server.adminToken.token}`, 'content-type': 'application/json' };
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const unsubscribe = server.events.subscribe('*', (event) => {
    if ((event.type === 'succeeded' || event.type === 'failed') && ++done === jobs) finish();
  });
  const started = performance.now();
  for (let i = 0; i < jobs; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, jobs - i) }, (_, j) =>
        fetch(`${url}/api/generate/text-to-image`, { method: 'POST', headers, body: JSON.stringify({ prompt: `job ${i + j}`, seed: i + j }) }).then((r) => r.arrayBuffer()),
      ),
    );
  }
  await finished;
  const makespanMs = performance.now() - started;
  unsubscribe();
  await server.close();
  await routed.close?.();
  await rm(dir, { recursive: true, force: true });
  const idealMs = (jobs * latencyMs) / k;
  const idle = renders.flatMap((r) => r.slice(1).map(([start], j) => start - r[j]![1]));
  const overrun = renders.flatMap((r) => r.map(([start, end]) => end - start - latencyMs));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { makespanMs, idealMs, ratio: makespanMs / idealMs, idleBetweenMs: mean(idle), overrunMs: mean(overrun) };
}
