import { api, ApiError } from '../../api/client';
import type { RequestBody } from '../generate/request-body';
import { followRun } from '../live/job-stream';
import { fromRun, IDLE, liveReducer, type LiveAction, type RunView } from '../live/run-state';
import { entryOfRun, isActive, labelOf, mergeRuns, ordered, type RunEntry } from './run-entries';
import { dispatchForm, findEntry, onStudioUnbind, updateEntry, useStudio } from './studio-store';

/**
 * Streams followed at once. A browser opens at most six HTTP/1.1 connections per server, and
 * the pictures need some: runs queued behind these wait (shown as queued, which they are)
 * and are followed when a stream ends.
 */
export const MAX_STREAMS = 3;

const followers = new Map<string, AbortController>();

onStudioUnbind(() => {
  for (const controller of followers.values()) controller.abort();
  followers.clear();
});

const OFFLINE_MESSAGE = 'Could not reach the server. Check that it is running and your connection, then retry.';

/** A failure of the network (fetch's TypeError, a lost stream), not a refusal by the server. */
function isOffline(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504;
}

function messageOf(error: unknown): string {
  return isOffline(error) ? OFFLINE_MESSAGE : error instanceof Error ? error.message : String(error);
}

const act = (key: string, action: LiveAction) => updateEntry(key, (entry) => ({ ...entry, live: liveReducer(entry.live, action) }));

function newKey(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Queues a run: it joins the queue at once as "sending", and once the server accepts it, it
 * is selected (the canvas shows it) and followed. Generate never waits for an earlier run.
 */
export async function submitRun(path: string, body: RequestBody, label: string = labelOf(body)): Promise<void> {
  const key = newKey();
  const entry: RunEntry = { key, request: { path, body, idempotencyKey: key }, label, submittedAt: Date.now(), live: { ...IDLE, phase: 'submitting' } };
  useStudio.setState((state) => ({ runs: ordered([entry, ...state.runs], state.selected) }));
  await send(key);
}

async function send(key: string): Promise<void> {
  const entry = findEntry(key);
  if (!entry?.request) return;
  const { path, body, idempotencyKey } = entry.request;
  updateEntry(key, (e) => ({ ...e, offline: false, live: { ...IDLE, phase: 'submitting' } }));
  try {
    const accepted = await api<RunView>(path, { body, headers: { 'idempotency-key': idempotencyKey } });
    accept(key, accepted);
  } catch (error) {
    const message = messageOf(error);
    updateEntry(key, (e) => ({ ...e, offline: isOffline(error), live: liveReducer(e.live, { type: 'error', message }) }));
    useStudio.setState({ notice: { entryKey: key, message, retry: isOffline(error) } });
  }
}

/** The server accepted the entry's run: key it by run id, select it, follow it. */
function accept(key: string, run: RunView): void {
  useStudio.setState((state) => {
    const runs = state.runs
      .filter((e) => e.key !== run.runId) // listed meanwhile by GET /api/runs
      .map((e) => (e.key === key ? { ...e, key: run.runId, runId: run.runId, offline: false, live: fromRun(e.live, run) } : e));
    return { runs, selected: run.runId, notice: state.notice?.entryKey === key ? undefined : state.notice };
  });
  pump();
}

/** Starts following runs in flight, oldest first, up to {@link MAX_STREAMS}. */
export function pump(): void {
  const waiting = useStudio
    .getState()
    .runs.filter((entry) => entry.runId && isActive(entry) && !followers.has(entry.runId))
    .reverse();
  for (const entry of waiting) {
    if (followers.size >= MAX_STREAMS) break;
    void follow(entry.runId!);
  }
}

async function follow(runId: string): Promise<void> {
  const controller = new AbortController();
  followers.set(runId, controller);
  const { signal } = controller;
  try {
    await followRun(runId, { signal, onEvent: (event) => act(runId, { type: 'event', event }), onReconnect: () => act(runId, { type: 'reconnecting' }) });
    if (signal.aborted) return;
    const final = await api<RunView>(`/api/status/${encodeURIComponent(runId)}`, { signal });
    act(runId, { type: 'final', run: final });
    if (final.status === 'succeeded' && findEntry(runId)?.request) dispatchForm({ type: 'ran', seed: final.seed });
    void awaitScores(final, signal);
  } catch (error) {
    if (signal.aborted) return;
    updateEntry(runId, (e) => ({ ...e, offline: isOffline(error), live: { ...liveReducer(e.live, { type: 'error', message: messageOf(error) }), reconnecting: false } }));
  } finally {
    if (followers.get(runId) === controller) followers.delete(runId);
    if (!signal.aborted) pump();
  }
}

/** Cancels a run in flight (POST /api/runs/:id/cancel); its stream reports the end. */
export async function cancelRun(key: string): Promise<void> {
  const entry = findEntry(key);
  if (!entry?.runId || !isActive(entry)) return;
  act(key, { type: 'cancelling' });
  try {
    const run = await api<RunView>(`/api/runs/${encodeURIComponent(entry.runId)}/cancel`, { method: 'POST' });
    // A run not followed (queued behind the streams) gets no event: its view settles it.
    if (run.status === 'canceled' || !followers.has(entry.runId)) act(key, { type: 'final', run });
  } catch (error) {
    const message = error instanceof ApiError && error.status === 409 ? 'The run had already finished' : messageOf(error);
    act(key, { type: 'error', message });
  }
}

/** Sends a submission that got no answer again (same idempotency key), or follows a lost stream again. */
export async function retryRun(key: string): Promise<void> {
  const entry = findEntry(key);
  if (!entry) return;
  useStudio.setState((state) => ({ notice: state.notice?.entryKey === key ? undefined : state.notice }));
  if (!entry.runId) return send(key);
  updateEntry(key, (e) => ({ ...e, offline: false, live: { ...e.live, error: undefined, phase: 'running' } }));
  try {
    const run = await api<RunView>(`/api/status/${encodeURIComponent(entry.runId)}`);
    act(key, { type: 'final', run });
  } catch (error) {
    updateEntry(key, (e) => ({ ...e, offline: isOffline(error), live: liveReducer(e.live, { type: 'error', message: messageOf(error) }) }));
    return;
  }
  pump();
}

/** Lists the user's recent runs (`GET /api/runs`) into the queue and follows those in flight. */
export async function loadRuns(signal?: AbortSignal): Promise<void> {
  try {
    const page = await api<{ runs: RunView[] }>('/api/runs?limit=20', signal ? { signal } : {});
    useStudio.setState((state) => ({ runs: mergeRuns(state.runs, page.runs, new Set(followers.keys()), state.selected) }));
  } catch {
    // The session's own runs stand; the list is tried again on the next visit.
  }
  if (!signal?.aborted) pump();
}

/**
 * Shows a run by id (a `/generate?run=ID` link or reload): selected from the queue, or read
 * with `GET /api/status/:id` and added. Resolves with a message when it cannot be shown.
 */
export async function openRun(runId: string): Promise<string | undefined> {
  if (findEntry(runId)) {
    useStudio.setState({ selected: runId });
    return undefined;
  }
  try {
    const run = await api<RunView>(`/api/status/${encodeURIComponent(runId)}`);
    useStudio.setState((state) => ({ runs: ordered([entryOfRun(run), ...state.runs.filter((e) => e.key !== run.runId)], run.runId), selected: run.runId }));
    pump();
    return undefined;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return 'That run was not found: it may belong to another user, or have been deleted.';
    return messageOf(error);
  }
}

const SCORE_DELAYS_MS = [300, 700, 1500, 3000];

const unscored = (run: RunView) => run.status === 'succeeded' && run.assets.length > 0 && run.assets.every((asset) => Object.keys(asset.evaluations).length === 0);

/**
 * Scores (pHash, diversity, SSIM…) are stored just after a run succeeds, so the view loaded
 * right after the `succeeded` event may not have them yet: ask again a few times.
 */
async function awaitScores(run: RunView, signal: AbortSignal): Promise<void> {
  if (!unscored(run)) return;
  for (const delay of SCORE_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (signal.aborted) return;
    try {
      const again = await api<RunView>(`/api/status/${encodeURIComponent(run.runId)}`, { signal });
      if (!unscored(again)) return act(run.runId, { type: 'final', run: again });
    } catch {
      return; // the results stand without scores
    }
  }
}
