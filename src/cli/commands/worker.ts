import { parseArgs } from 'node:util';
import { createReferenceWorker } from '../../reference-worker/reference-worker.js';
import { LOCAL_BACKEND_KINDS, loadLocalBackend, type LocalBackendKind } from '../../reference-worker/local-backend.js';
import { CliError, UsageError } from '../cli-error.js';
import { WORKER_USAGE } from '../usage.js';

const USAGE = WORKER_USAGE.trimEnd();

/**
 * `atelier worker`: the reference remote worker. Pulls jobs of the server's remote backends
 * over HTTP with a worker token and renders them on a local backend (docs/worker-protocol.md).
 * SIGTERM/SIGINT: stop claiming, finish running jobs within --grace-seconds (default 30),
 * give back the rest; a second signal gives them back at once.
 */
export async function workerCommand(args: string[]): Promise<void> {
  const { values } = parseOptions(args);
  if (!values.server) throw new UsageError(`--server is required (or ATELIER_SERVER).\n${USAGE}`);
  if (!values.token) throw new UsageError(`A worker token is required: --token or ATELIER_WORKER_TOKEN (create one with: atelier workers add NAME).\n${USAGE}`);
  if (!values.token.startsWith('atw_')) throw new UsageError('Expected a worker token (atw_…, from `atelier workers add NAME`), not an API token');
  const kind = values.backend as LocalBackendKind;
  if (!LOCAL_BACKEND_KINDS.includes(kind)) throw new UsageError(`Expected --backend ${LOCAL_BACKEND_KINDS.join('|')} but received '${values.backend}'.\n${USAGE}`);
  if (kind !== 'builtin' && !values.url) throw new UsageError(`--url is required for --backend ${kind} (e.g. http://127.0.0.1:${kind === 'comfyui' ? '8188' : '7860'})`);
  const concurrency = positiveInteger('--concurrency', values.concurrency);
  const graceSeconds = Number(values['grace-seconds']);
  if (!(graceSeconds >= 0)) throw new UsageError(`Expected a number ≥ 0 for --grace-seconds but received '${values['grace-seconds']}'`);
  const uploadMode = values['upload-mode'];
  if (uploadMode !== 'multipart' && uploadMode !== 'direct' && uploadMode !== 'presigned') throw new UsageError(`Expected --upload-mode multipart|direct|presigned but received '${uploadMode}'`);
  let server: URL;
  try {
    server = new URL(values.server);
  } catch {
    throw new UsageError(`Expected a URL for --server but received '${values.server}'`);
  }

  let backend;
  try {
    const timeoutSeconds = Number(values['timeout-seconds']);
    if (!(timeoutSeconds > 0)) throw new UsageError(`Expected a number > 0 for --timeout-seconds but received '${values['timeout-seconds']}'`);
    backend = await loadLocalBackend(kind, {
      ...(values.url ? { url: values.url } : {}),
      ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
      ...(values.workflows ? { workflowsFile: values.workflows } : {}),
      generationTimeoutMs: timeoutSeconds * 1000,
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new CliError((error as Error).message);
  }
  const worker = createReferenceWorker({
    server: server.toString(),
    token: values.token,
    backend,
    concurrency,
    uploadMode,
    ...(values.backends ? { backends: values.backends.split(',').map((b) => b.trim()).filter(Boolean) } : {}),
    ...(values['worker-id'] ? { workerId: values['worker-id'] } : {}),
    log: (line) => process.stderr.write(`[worker] ${line}\n`),
  });

  let signals = 0;
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    process.stderr.write(`[worker] ${signal}: ${signals === 1 ? `finishing running jobs (up to ${graceSeconds} s), then exiting` : 'giving running jobs back now'}\n`);
    stopping = worker.shutdown(signals === 1 ? graceSeconds * 1000 : 0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.run();
    await stopping;
  } catch (error) {
    throw new CliError(`The worker stopped: ${(error as Error).message}`);
  } finally {
    await backend.close?.();
  }
  const { completed, failed } = worker.stats;
  process.stderr.write(`[worker] stopped (${completed} job(s) completed, ${failed} failed or given back)\n`);
}

function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: false,
      options: {
        server: { type: 'string', default: process.env.ATELIER_SERVER },
        token: { type: 'string', default: process.env.ATELIER_WORKER_TOKEN },
        backend: { type: 'string', default: 'builtin' },
        url: { type: 'string' },
        concurrency: { type: 'string', default: '1' },
        backends: { type: 'string' },
        'upload-mode': { type: 'string', default: 'multipart' },
        'grace-seconds': { type: 'string', default: '30' },
        'worker-id': { type: 'string' },
        checkpoint: { type: 'string' },
        workflows: { type: 'string' },
        'timeout-seconds': { type: 'string', default: '1800' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`Expected an integer 1–64 for ${flag} but received '${value}'`);
  return n;
}
