import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';

/**
 * Submit→terminal time of a prompt-cache hit against the fresh render it copies, same server,
 * same request (1024², 30 steps, preview renderer), median of `rounds` seeds.
 */
export async function benchCacheHit(rounds = 5): Promise<{ freshMs: number; hitMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-cache-'));
  const server = await createServer(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', CACHE_DEFAULT_MODE: 'seed-aware', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', SAFETY_POLICY: 'off' }, dir));
  const url = await server.listen();
  const headers = { authorization: `Bearer ${server.adminToken.token}`, 'content-type': 'application/json' };
  const terminal = new Map<string, () => void>();
  const unsubscribe = server.events.subscribe('*', (event) => {
    if (event.type === 'succeeded' || event.type === 'failed') terminal.get(event.jobId)?.();
  });
  async function timed(seed: number): Promise<{ ms: number; cached: boolean }> {
    const started = performance.now();
    const body = { prompt: 'a lighthouse on a cliff at dusk, warm light, stormy sea', seed, steps: 30, width: 1024, height: 1024 };
    const run = (await (await fetch(`${url}/api/generate/text-to-image`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { runId: string; status: string; cached: boolean };
    if (run.status !== 'succeeded') await new Promise<void>((resolve) => terminal.set(run.runId, resolve));
    return { ms: performance.now() - started, cached: run.cached };
  }
  const fresh: number[] = [];
  const hits: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const first = await timed(500 + i);
      const second = await timed(500 + i);
      if (first.cached || !second.cached) throw new Error('expected a fresh render, then a cache hit');
      fresh.push(first.ms);
      hits.push(second.ms);
    }
  } finally {
    unsubscribe();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { freshMs: median(fresh), hitMs: median(hits) };
}
