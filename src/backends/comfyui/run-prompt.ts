import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CanceledError, UnrecoverableError } from '../../errors/signals.js';
import type { PreviewImage } from '../backend.js';
import type { ComfyHttpClient, HistoryEntry } from './comfyui-http.js';
import type { ComfySocket, PromptListener } from './comfyui-socket.js';
import type { ProgressTracker } from './progress-tracker.js';
import type { WorkflowGraph } from './workflow-template.js';

/** What running one prompt needs from its backend instance. */
export interface PromptRunner {
  readonly http: ComfyHttpClient;
  readonly socket: ComfySocket;
  readonly clientId: string;
  readonly connectMs: number;
  readonly pollIntervalMs: number;
}

/** Consecutive failed history polls after which the job gives up (RetryableError). */
const MAX_POLL_FAILURES = 3;

const nodeError = (data: Record<string, unknown>) =>
  new UnrecoverableError(
    `ComfyUI failed in node ${String(data.node_id)} (${String(data.node_type)}): ${String(data.exception_type)}: ${String(data.exception_message)}`.trim(),
    'backend_failed',
  );

/** A finished entry's status, as a signal error when the prompt did not succeed. */
function checkStatus(promptId: string, entry: HistoryEntry): HistoryEntry {
  if (entry.status?.status_str !== 'error') return entry;
  const messages = entry.status.messages ?? [];
  if (messages.some(([event]) => event === 'execution_interrupted')) throw new CanceledError(`ComfyUI interrupted prompt ${promptId}`);
  const failure = messages.find(([event]) => event === 'execution_error');
  throw failure ? nodeError(failure[1]) : new UnrecoverableError(`ComfyUI reports prompt ${promptId} failed`, 'backend_failed');
}

/** Polls GET /history/{id} until the entry appears; throws after repeated failures or on abort. */
async function pollHistory(run: PromptRunner, promptId: string, signal: AbortSignal): Promise<HistoryEntry> {
  for (let failures = 0; ; ) {
    try {
      const entry = await run.http.history(promptId, signal);
      if (entry !== undefined) return entry;
      failures = 0;
    } catch (error) {
      if (signal.aborted || (failures += 1) >= MAX_POLL_FAILURES) throw error;
    }
    await sleep(run.pollIntervalMs, undefined, { signal });
  }
}

/** Tells ComfyUI to drop the prompt: dequeued if pending, then interrupted if running. Best effort. */
async function withdraw(run: PromptRunner, promptId: string): Promise<void> {
  await run.http.dequeue(promptId, AbortSignal.timeout(run.connectMs)).catch(() => {});
  await run.http.interrupt(promptId, AbortSignal.timeout(run.connectMs)).catch(() => {});
}

/**
 * Queues one graph and waits for its history entry. Events come from the shared socket;
 * if it drops, history is polled instead (ComfyUI writes history only when a prompt ends).
 * When `signal` aborts, the prompt is withdrawn from ComfyUI before this rejects with the
 * signal's reason, so an abandoned job never keeps the GPU busy.
 *
 * @throws UnrecoverableError on a refused graph or a node error; CanceledError when ComfyUI
 *   interrupted the prompt; RetryableError when ComfyUI cannot be reached.
 */
export async function runPrompt(
  run: PromptRunner,
  graph: WorkflowGraph,
  signal: AbortSignal,
  hooks: { readonly tracker: ProgressTracker; readonly onPreview?: (preview: PreviewImage) => void },
): Promise<HistoryEntry> {
  let promptId: string = randomUUID(); // lowercase v4, as newer ComfyUI requires
  const local = new AbortController(); // stops a history poll once this prompt is settled
  const pollSignal = AbortSignal.any([signal, local.signal]);
  let finish!: (entry?: HistoryEntry) => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<HistoryEntry | undefined>((resolve, reject) => ((finish = resolve), (fail = reject)));
  finished.catch(() => {}); // it may settle while we still await the POST; handled when awaited
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    pollHistory(run, promptId, pollSignal).then(finish, fail);
  };
  const onAbort = () => fail(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const listener: PromptListener = {
    onEvent(type, data) {
      if (type === 'progress') hooks.tracker.update(data.node == null ? undefined : String(data.node), Number(data.value), Number(data.max));
      else if (type === 'execution_error') fail(nodeError(data));
      else if (type === 'execution_interrupted') fail(new CanceledError(`ComfyUI interrupted prompt ${promptId}`));
      else if (type === 'execution_success' || (type === 'executing' && data.node === null)) finish();
    },
    onPreview: (preview) => hooks.onPreview?.(preview),
    onDisconnect: poll,
  };
  let unsubscribe = run.socket.subscribe(promptId, listener);
  let queued = false;
  try {
    await run.socket.ready();
    signal.throwIfAborted();
    queued = true; // from here ComfyUI may hold the prompt, even if the POST's answer is lost
    const accepted = await run.http.queuePrompt({ prompt: graph, client_id: run.clientId, prompt_id: promptId }, signal);
    if (accepted !== promptId) {
      // Older ComfyUI ignores a client prompt_id and makes its own: follow the one it uses,
      // and poll too, since events sent before we knew the id were dropped.
      unsubscribe();
      promptId = accepted;
      unsubscribe = run.socket.subscribe(promptId, listener);
      poll();
    }
    // execution_success precedes ComfyUI's history write, so the entry may need a poll or two.
    const entry = (await finished) ?? (await pollHistory(run, promptId, signal));
    return checkStatus(promptId, entry);
  } catch (error) {
    // Interrupt and dequeue are no-ops for a prompt ComfyUI already finished or never took.
    if (queued) await withdraw(run, promptId);
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    local.abort();
  }
}
