import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGenerateOptions } from '../generate-options.js';
import { checkOutputDir } from '../output-dir.js';
import { createProgressBar } from '../progress-bar.js';
import { createServerClient, reach, type RunView, type ServerClient } from '../server-client.js';
import { readServerSentEvents } from '../sse-client.js';
import { CliError } from '../cli-error.js';

/** 128 + SIGINT, as shells report a command stopped by Ctrl-C. */
const EXIT_INTERRUPTED = 130;
const CANCEL_TIMEOUT_MS = 5_000;
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'video/mp4': 'mp4' };

/**
 * `atelier generate "PROMPT" [options]`: uploads the input images (--ref, --start, --end),
 * submits the job to a running server, shows its progress on stderr and writes the outputs to
 * --out, one path per line on stdout. `--out` is checked before anything is sent. Ctrl-C
 * cancels the run on the server (POST /api/runs/{runId}/cancel) and exits 130; a second Ctrl-C
 * exits at once.
 *
 * @example atelier generate "a lighthouse at dusk" --aspect-ratio 16:9 --steps 20 --seed 42 --out ./out
 * @example atelier generate "the same, in winter" --ref ./out/photo.png --denoise 0.6
 * @example atelier generate "waves rolling in" --mode t2v --frames 32 --fps 16
 */
export async function generateCommand(args: string[]): Promise<void> {
  const options = parseGenerateOptions(args, process.env);
  await checkOutputDir(options.out);
  const client = createServerClient(options.server, options.token);

  const interrupt = new AbortController();
  let runId: string | undefined;
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals > 1) process.exit(EXIT_INTERRUPTED);
    process.stderr.write(runId ? `\nInterrupted: canceling run ${runId}…\n` : '\nInterrupted.\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  try {
    const body: Record<string, unknown> = { ...options.body };
    for (const file of options.files) {
      body[file.field] = { upload_id: await client.upload(file.path, file.option) };
      if (interrupt.signal.aborted) return stop(client, undefined);
    }
    // Not abortable: once sent, the run may exist, and only its id lets us cancel it.
    const submitted = await client.post<RunView>(options.endpoint, body);
    runId = submitted.runId;
    if (interrupt.signal.aborted) return await stop(client, runId);
    process.stderr.write(`Run ${runId} queued (seed ${submitted.seed}, ${submitted.backend.label})\n`);

    const bar = createProgressBar(process.stderr, 'Generating');
    try {
      const stream = await client.open(`/api/status/stream/${runId}`, { signal: interrupt.signal });
      if (!stream.ok || !stream.body) throw new CliError(`The status stream failed with HTTP ${stream.status}`);
      for await (const event of readServerSentEvents(stream.body)) {
        if (event.event !== 'progress' && event.event !== 'retrying') continue;
        const data = JSON.parse(event.data) as { step?: number; totalSteps?: number; attempt?: number };
        if (event.event === 'progress') bar.update(data.step ?? 0, data.totalSteps ?? 0);
        else bar.done(`Attempt ${data.attempt} failed; retrying`);
      }
    } catch (error) {
      if (!interrupt.signal.aborted) throw error;
    }
    if (interrupt.signal.aborted) {
      bar.done('');
      return await stop(client, runId);
    }

    const run = await client.call<RunView>(`/api/status/${runId}`);
    if (run.status !== 'succeeded') {
      bar.done(`Run ${run.runId} ${run.status}${run.error ? `: ${run.error.message} (${run.error.code})` : ''}`);
      process.exitCode = 1;
      return;
    }
    bar.done(`Run ${run.runId} succeeded`);
    await mkdir(options.out, { recursive: true });
    for (const asset of run.assets) {
      const response = await reach(asset.url);
      if (!response.ok) throw new CliError(`Downloading output ${asset.index} failed with HTTP ${response.status}`);
      const file = join(options.out, `${run.runId}-${asset.index}.${EXTENSIONS[asset.contentType] ?? 'bin'}`);
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
      process.stdout.write(`${file}\n`);
    }
    const expiresAt = run.assets[0]?.expiresAt;
    if (expiresAt) process.stderr.write(`The server keeps these in your workspace until ${expiresAt} (save them to the library to keep them)\n`);
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

/** Ctrl-C: cancels the run on the server when there is one, then exits 130. */
async function stop(client: ServerClient, runId: string | undefined): Promise<void> {
  process.exitCode = EXIT_INTERRUPTED;
  if (runId === undefined) return;
  try {
    const run = await client.cancel(runId, AbortSignal.timeout(CANCEL_TIMEOUT_MS));
    process.stderr.write(`Run ${runId} ${run.status === 'canceled' ? 'canceled on the server' : `was already ${run.status}`}\n`);
  } catch (error) {
    process.stderr.write(`Could not cancel run ${runId} on the server: ${(error as Error).message}\n`);
  }
}
