import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
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

/** Interrupted, though not by us: another client's /interrupt (global before 2025-09) or a restart. */
const interruptedByOthers = (promptId: string) =>
  new RetryableError(`ComfyUI interrupted prompt ${promptId} without Atelier asking (another client's /interrupt?)`, 'backend_failed');

/**
 * A finished entry, or the signal error of a prompt that did not succeed. The messages decide:
 * ComfyUI v0.1.0 writes `status_str: "success"` for interrupted and failed prompts, and 2023
 * versions write no status at all.
 */
export function checkStatus(promptId: string, entry: HistoryEntry): HistoryEntry {
  const messages = entry.status?.messages ?? [];
  if (messages.some(([event]) => event === 'execution_interrupted')) throw interruptedByOthers(promptId);
  const failure = messages.find(([event]) => event === 'execution_error');
  if (failure) throw nodeError(failure[1]);
  if (entry.status?.status_str === 'error') throw new UnrecoverableError(`ComfyUI reports prompt ${promptId} failed`, 'backend_failed');
  return entry;
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

/**
 * Takes our prompt back from ComfyUI, touching nothing else: deleted from the queue while it
 * is pending, interrupted only while GET /queue shows it running — an /interrupt before
 * 2025-09 stops whatever runs, another client's prompt too. A second look catches a prompt
 * that started between the two requests. Best effort: an unreachable server keeps nothing.
 */
async function withdraw(run: PromptRunner, promptId: string): Promise<void> {
  const timeout = () => AbortSignal.timeout(run.connectMs);
  try {
    for (let look = 0; look < 2; look += 1) {
      const { running, pending } = await run.http.queue(timeout());
      if (running.includes(promptId)) return await run.http.interrupt(promptId, timeout());
      if (!pending.includes(promptId)) return; // finished, or never taken
      await run.http.dequeue(promptId, timeout());
    }
  } catch {
    // Best effort: the job is settled by its caller either way.
  }
}

/** Events that prove ComfyUI is executing our prompt (it left the queue). */
const STARTED = new Set(['execution_start', 'execution_cached', 'executing', 'executed', 'progress', 'progress_state']);

/** What one prompt reports besides its result. */
export interface PromptHooks {
  readonly tracker: ProgressTracker;
  readonly onPreview?: (preview: PreviewImage) => void;
  /** The prompt began executing: any event about it, not only progress (model loading has none). */
  readonly onStarted?: () => void;
}

/**
 * Queues one graph and waits for its history entry. Events come from the shared socket;
 * if it drops, history is polled instead (ComfyUI writes history only when a prompt ends).
 * When `signal` aborts while ComfyUI may hold the prompt, it is withdrawn before this rejects
 * with the signal's reason, so an abandoned job never keeps the GPU busy. A prompt ComfyUI
 * refused or finished is never withdrawn.
 *
 * @throws UnrecoverableError on a refused graph or a node error; RetryableError when ComfyUI
 *   cannot be reached or interrupted the prompt on its own.
 */
export async function runPrompt(run: PromptRunner, graph: WorkflowGraph, signal: AbortSignal, hooks: PromptHooks): Promise<HistoryEntry> {
  let promptId: string = randomUUID(); // lowercase v4, as newer ComfyUI requires
  const local = new AbortController(); // stops a history poll once this prompt is settled
  const pollSignal = AbortSignal.any([signal, local.signal]);
  let finish!: (entry?: HistoryEntry) => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<HistoryEntry | undefined>((resolve, reject) => ((finish = resolve), (fail = reject)));
  finished.catch(() => {}); // it may settle while we still await the POST; handled when awaited
  /** Whether ComfyUI may hold the prompt: from the POST until a finishing event or a refusal. */
  let held = false;
  let started = false;
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    pollHistory(run, promptId, pollSignal).then((entry) => ((held = false), finish(entry)), fail);
  };
  const onAbort = () => fail(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const ended = (outcome: () => void) => {
    held = false;
    outcome();
  };
  const listener: PromptListener = {
    onEvent(type, data) {
      if (!started && STARTED.has(type) && !(type === 'executing' && data.node === null)) {
        started = true;
        hooks.onStarted?.();
      }
      if (type === 'progress') hooks.tracker.update(data.node == null ? undefined : String(data.node), Number(data.value), Number(data.max));
      else if (type === 'execution_error') ended(() => fail(nodeError(data)));
      else if (type === 'execution_interrupted') ended(() => fail(interruptedByOthers(promptId)));
      else if (type === 'execution_success' || (type === 'executing' && data.node === null)) ended(() => finish());
    },
    onPreview: (preview) => hooks.onPreview?.(preview),
    onDisconnect: poll,
  };
  let unsubscribe = run.socket.subscribe(promptId, listener);
  try {
    await run.socket.ready();
    signal.throwIfAborted();
    held = true; // from here ComfyUI may hold the prompt, even if the POST's answer is lost
    const accepted = await run.http.queuePrompt({ prompt: graph, client_id: run.clientId, prompt_id: promptId }, signal).catch((error: unknown) => {
      // A 4xx (a refused graph) means ComfyUI took nothing.
      if (error instanceof UnrecoverableError) held = false;
      throw error;
    });
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
    held = false;
    return checkStatus(promptId, entry);
  } catch (error) {
    if (held) await withdraw(run, promptId);
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    local.abort();
  }
}
