import { fromRun, IDLE, type LiveState, type RunView } from '../live/run-state';
import type { RequestBody } from '../generate/request-body';

/** What was sent for a run made here: enough to send it again (same idempotency key). */
export interface SentRequest {
  readonly path: string;
  readonly body: RequestBody;
  /** A retried POST with this key creates the run once, however often it is sent. */
  readonly idempotencyKey: string;
}

/**
 * One run of the queue: made in this session (it has `request`), or listed by
 * `GET /api/runs` / opened by its link. Its key is the run id once the server accepted it,
 * a local id before (or when the submission never got an answer).
 */
export interface RunEntry {
  readonly key: string;
  readonly runId?: string;
  readonly request?: SentRequest;
  /** The prompt (or what the run was), for the queue. */
  readonly label: string;
  /** ms since epoch; newest first in the queue. */
  readonly submittedAt: number;
  readonly live: LiveState;
  /** The submission or the stream failed for want of the server (not a refusal): Retry helps. */
  readonly offline?: boolean;
}

/** Most entries kept (older ones are in History); the selected one always stays. */
export const MAX_ENTRIES = 30;

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export function isActive(entry: RunEntry): boolean {
  if (entry.live.phase === 'submitting') return true;
  return !!entry.runId && !entry.offline && !TERMINAL.has(entry.live.status ?? 'queued');
}

export function labelOf(body: RequestBody | undefined, run?: RunView): string {
  const prompt = typeof body?.prompt === 'string' ? body.prompt : typeof run?.parameters.prompt === 'string' ? run.parameters.prompt : '';
  return prompt.trim() || (run ? `${run.mode} · ${run.model}` : 'Untitled run');
}

/** A run listed by the server as an entry of the queue. */
export function entryOfRun(run: RunView): RunEntry {
  return { key: run.runId, runId: run.runId, label: labelOf(undefined, run), submittedAt: run.createdAt ? Date.parse(run.createdAt) : Date.now(), live: fromRun(IDLE, run) };
}

/**
 * The queue after the server listed `runs`: known entries take the server's view (fresh media
 * URLs, a status changed elsewhere) unless a stream of this page follows them (`followed`, whose
 * events are newer than any listing); unknown runs are added. Newest first, at most
 * {@link MAX_ENTRIES}, never dropping `keep`.
 */
export function mergeRuns(entries: readonly RunEntry[], runs: readonly RunView[], followed: ReadonlySet<string>, keep?: string): RunEntry[] {
  const byKey = new Map(entries.map((entry) => [entry.key, entry]));
  for (const run of runs) {
    const known = byKey.get(run.runId);
    if (!known) byKey.set(run.runId, entryOfRun(run));
    else if (!followed.has(run.runId)) byKey.set(run.runId, { ...known, offline: false, live: { ...fromRun(known.live, run), preview: undefined } });
  }
  return ordered([...byKey.values()], keep);
}

/** Newest first, capped, with `keep` (the selected run) never dropped. */
export function ordered(entries: readonly RunEntry[], keep?: string): RunEntry[] {
  const sorted = [...entries].sort((a, b) => b.submittedAt - a.submittedAt);
  const kept = sorted.slice(0, MAX_ENTRIES);
  const selected = keep ? sorted.find((entry) => entry.key === keep) : undefined;
  if (selected && !kept.includes(selected)) kept.push(selected);
  return kept;
}

/** The entry as it is stored for a reload: no preview frame; a submission in flight becomes one to retry. */
export function storedEntry(entry: RunEntry): RunEntry {
  const live: LiveState = { ...entry.live, preview: undefined, reconnecting: false, cancelling: false };
  if (entry.live.phase === 'submitting') return { ...entry, offline: true, live: { ...live, phase: 'idle', error: 'Interrupted while sending: press Retry (the run is made only once)' } };
  return { ...entry, live };
}
