import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/main/load-config.js';
import { createServer } from '../src/main/create-server.js';

/**
 * `npm run determinism [-- --server URL --token T --model M]`: submits the same seeded
 * request twice and once with another seed, and compares the SHA-256 of the images. Exit 0
 * only when the same seed gives the same bytes and a different seed different ones. Without
 * --server it starts an embedded server of its own. The prompt cache is bypassed
 * (cache_mode off), so both runs really render.
 */
const { values } = parseArgs({
  options: { server: { type: 'string' }, token: { type: 'string', default: process.env.ATELIER_TOKEN }, model: { type: 'string' }, seed: { type: 'string', default: '1234' } },
});

let url = values.server?.replace(/\/$/, '');
let token = values.token;
let stop = async () => {};
if (!url) {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-determinism-'));
  const server = await createServer(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' }, dir));
  url = await server.listen();
  token = server.adminToken.token;
  stop = async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  };
}
if (!token) throw new Error('An API token is required: --token or ATELIER_TOKEN');

async function checksums(seed: number): Promise<string[]> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = { prompt: 'a lighthouse on a cliff at dusk, determinism check', seed, steps: 20, width: 512, height: 512, num_images: 2, cache_mode: 'off', ...(values.model ? { model: values.model } : {}) };
  const submitted = (await (await fetch(`${url}/api/generate/text-to-image`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { runId: string };
  for (;;) {
    const run = (await (await fetch(`${url}/api/status/${submitted.runId}`, { headers })).json()) as { status: string; error: unknown; assets: { url: string }[] };
    if (run.status === 'succeeded') {
      return Promise.all(run.assets.map(async (asset) => createHash('sha256').update(Buffer.from(await (await fetch(asset.url)).arrayBuffer())).digest('hex')));
    }
    if (run.status === 'failed' || run.status === 'canceled') throw new Error(`Run ${submitted.runId} ${run.status}: ${JSON.stringify(run.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  const seed = Number(values.seed);
  const first = await checksums(seed);
  const second = await checksums(seed);
  const other = await checksums(seed + 1000);
  const same = first.every((sum, i) => sum === second[i]);
  const differs = first.every((sum, i) => sum !== other[i]);
  process.stdout.write(`seed ${seed}, run 1:   ${first.join(' ')}\nseed ${seed}, run 2:   ${second.join(' ')}\nseed ${seed + 1000}:        ${other.join(' ')}\n`);
  process.stdout.write(`same seed → same bytes: ${same ? 'yes' : 'NO'}; different seed → different bytes: ${differs ? 'yes' : 'NO'}\n`);
  process.exitCode = same && differs ? 0 : 1;
} finally {
  await stop();
}
