import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';
import { startSimulatedWorker } from './simulated-worker.js';

/**
 * The routing figure through the remote-worker protocol: K workers (one simulated GPU each)
 * that long-poll a claim, "render" for L ms, upload the PNG and post the completion callback
 * over HTTP, N jobs. Makespan over the ideal N·L/K.
 */
export async function benchRemoteWorkers(k = 4, latencyMs = 200, jobs = 400): Promise<{ makespanMs: number; idealMs: number; ratio: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-remote-'));
  const configFile = join(dir, 'atelier.config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      backends: { gpu: { type: 'remote', modes: ['t2i'], samplers: ['Euler'] } },
      models: [{ name: 'sim', backend: 'gpu', label: 'simulated remote GPU', modes: ['t2i'], baseResolution: 64, defaultSteps: 1, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }],
    }),
  );
  const server = await createServer(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', ATELIER_CONFIG: configFile, RUNNER_CONCURRENCY: '2', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', SAFETY_POLICY: 'off', CACHE_DEFAULT_MODE: 'off' }, dir));
  const url = await server.listen();
  const admin = { authorization: `Bearer ${server.adminToken.token}`, 'content-type': 'application/json' };

  const workerToken = ((await (await fetch(`${url}/api/admin/workers`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench' }) })).json()) as { token: string }).token;

  const started = performance.now();
  const submissions = (async () => {
    for (let i = 0; i < jobs; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, jobs - i) }, (_, j) =>
          fetch(`${url}/api/generate/text-to-image`, { method: 'POST', headers: admin, body: JSON.stringify({ prompt: `job ${i + j}`, seed: i + j }) }).then((r) => r.arrayBuffer()),
        ),
      );
    }
  })();
  const workers = Array.from({ length: k }, () => startSimulatedWorker(url, workerToken, latencyMs));
  const done = () => workers.reduce((n, w) => n + w.done(), 0);
  await submissions;
  while (done() < jobs) await new Promise((r) => setTimeout(r, 5));
  const makespanMs = performance.now() - started;
  await Promise.all(workers.map((w) => w.stop()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
  const idealMs = (jobs * latencyMs) / k;
  return { makespanMs, idealMs, ratio: makespanMs / idealMs };
}
