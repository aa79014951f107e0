import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createProgressBar } from '../progress-bar.js';
import { readServerSentEvents } from '../sse-client.js';
import { CliError, UsageError } from '../cli-error.js';

interface RunView {
  runId: string;
  status: string;
  seed: number;
  error: { code: string; message: string } | null;
  backend: { label: string };
  assets: { index: number; url: string; metadata: { seed: number } }[];
}

/**
 * `atelier generate "PROMPT" [--steps --seed --size --num-images --out --server]`: submits a
 * text-to-image job to a running server, shows its progress and writes the PNGs.
 */
export async function generateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args);
  const prompt = positionals.join(' ').trim();
  if (!prompt) throw new UsageError('Usage: atelier generate "PROMPT" [--steps N --seed N --size WxH --num-images N --out DIR --server URL]');
  if (!values.token) throw new UsageError('An API token is required: pass --token or set ATELIER_TOKEN (npm start prints one)');

  const body: Record<string, unknown> = { prompt };
  if (values.steps) body.steps = integer('--steps', values.steps);
  if (values.seed) body.seed = integer('--seed', values.seed);
  if (values['num-images']) body.num_images = integer('--num-images', values['num-images']);
  if (values.negative) body.negative_prompt = values.negative;
  if (values.model) body.model = values.model;
  if (values.size) {
    const match = /^(\d+)x(\d+)$/.exec(values.size);
    if (!match) throw new UsageError(`Expected WIDTHxHEIGHT for --size but received '${values.size}'`);
    body.width = Number(match[1]);
    body.height = Number(match[2]);
  }

  const server = values.server.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${values.token}` };
  const submitted = await call<RunView>(`${server}/api/generate/text-to-image`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  process.stderr.write(`Run ${submitted.runId} queued (seed ${submitted.seed}, ${submitted.backend.label})\n`);

  const bar = createProgressBar(process.stderr, 'Generating');
  const stream = await reach(`${server}/api/status/stream/${submitted.runId}`, { headers });
  if (!stream.ok || !stream.body) throw new CliError(`The status stream failed with HTTP ${stream.status}`);
  for await (const event of readServerSentEvents(stream.body)) {
    const data = JSON.parse(event.data) as { step?: number; totalSteps?: number; attempt?: number };
    if (event.event === 'progress') bar.update(data.step ?? 0, data.totalSteps ?? 0);
    else if (event.event === 'retrying') bar.done(`Attempt ${data.attempt} failed; retrying`);
  }

  const run = await call<RunView>(`${server}/api/status/${submitted.runId}`, { headers });
  if (run.status !== 'succeeded') {
    bar.done(`Run ${run.runId} ${run.status}${run.error ? `: ${run.error.message} (${run.error.code})` : ''}`);
    process.exitCode = 1;
    return;
  }
  bar.done(`Run ${run.runId} succeeded`);
  const outDir = resolve(values.out);
  await mkdir(outDir, { recursive: true });
  for (const asset of run.assets) {
    const response = await reach(asset.url);
    if (!response.ok) throw new CliError(`Downloading image ${asset.index} failed with HTTP ${response.status}`);
    const file = join(outDir, `${run.runId}-${asset.index}.png`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    process.stdout.write(`${file}\n`);
  }
}

function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        'num-images': { type: 'string' },
        negative: { type: 'string' },
        model: { type: 'string' },
        out: { type: 'string', default: '.' },
        server: { type: 'string', default: process.env.ATELIER_SERVER ?? 'http://127.0.0.1:8787' },
        token: { type: 'string', default: process.env.ATELIER_TOKEN },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const response = await reach(url, init);
  const payload = (await response.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!response.ok) throw new CliError(`${payload.message ?? `HTTP ${response.status}`}${payload.code ? ` (${payload.code})` : ''}`);
  return payload;
}

/** fetch, with a failure to connect reported as such rather than as "fetch failed". */
async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`Cannot reach the Atelier server at ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
}

function integer(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`Expected an integer for ${flag} but received '${value}'`);
  return n;
}
