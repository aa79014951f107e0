import { useCallback, useEffect, useReducer, useRef } from 'react';
import { api, ApiError } from '../../api/client';
import { followRun } from './job-stream';
import { IDLE, liveReducer, type LiveState, type RunView } from './run-state';

export interface RunControls {
  readonly live: LiveState;
  submit(path: string, body: unknown): Promise<RunView | undefined>;
  cancel(): void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Submits a run and follows it over SSE to the end, then loads its final view (assets,
 * scores, cost). One run at a time: a new submit stops following the previous one.
 */
export function useRun(onFinished?: (run: RunView) => void): RunControls {
  const [live, dispatch] = useReducer(liveReducer, IDLE);
  const controller = useRef<AbortController | undefined>(undefined);
  const runId = useRef<string | undefined>(undefined);
  const finished = useRef(onFinished);
  finished.current = onFinished;

  useEffect(() => () => controller.current?.abort(), []);

  const submit = useCallback(async (path: string, body: unknown) => {
    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    dispatch({ type: 'submit' });
    try {
      // One key per click makes a retried POST (a flaky network) create one run, not two.
      const key = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
      const accepted = await api<RunView>(path, { body, signal: current.signal, headers: { 'idempotency-key': key } });
      runId.current = accepted.runId;
      dispatch({ type: 'accepted', run: accepted });
      let final = accepted;
      if (!['succeeded', 'failed', 'canceled'].includes(accepted.status)) {
        await followRun(accepted.runId, {
          signal: current.signal,
          onEvent: (event) => dispatch({ type: 'event', event }),
          onReconnect: () => dispatch({ type: 'reconnecting' }),
        });
        if (current.signal.aborted) return undefined;
        final = await api<RunView>(`/api/status/${encodeURIComponent(accepted.runId)}`, { signal: current.signal });
      }
      dispatch({ type: 'final', run: final });
      finished.current?.(final);
      void awaitScores(final, current.signal, (run) => dispatch({ type: 'final', run }));
      return final;
    } catch (error) {
      if (current.signal.aborted) return undefined;
      dispatch({ type: 'error', message: message(error) });
      return undefined;
    }
  }, []);

  const cancel = useCallback(() => {
    const id = runId.current;
    if (!id) return;
    dispatch({ type: 'cancelling' });
    api<RunView>(`/api/runs/${encodeURIComponent(id)}/cancel`, { method: 'POST' })
      .then((run) => {
        // The stream delivers the canceled event too; the view settles it if the stream is gone.
        if (run.status === 'canceled') dispatch({ type: 'final', run });
      })
      .catch((error: unknown) => dispatch({ type: 'error', message: error instanceof ApiError && error.status === 409 ? 'The run had already finished' : message(error) }));
  }, []);

  return { live, submit, cancel };
}

const SCORE_DELAYS_MS = [300, 700, 1500, 3000];

const unscored = (run: RunView) => run.status === 'succeeded' && run.assets.length > 0 && run.assets.every((asset) => Object.keys(asset.evaluations).length === 0);

/**
 * Scores (pHash, diversity, SSIM…) are stored just after a run succeeds, so the view loaded
 * right after the `succeeded` event may not have them yet: ask again a few times.
 */
async function awaitScores(run: RunView, signal: AbortSignal, update: (run: RunView) => void): Promise<void> {
  if (!unscored(run)) return;
  for (const delay of SCORE_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (signal.aborted) return;
    try {
      const again = await api<RunView>(`/api/status/${encodeURIComponent(run.runId)}`, { signal });
      if (!unscored(again)) return update(again);
    } catch {
      return; // the results stand without scores
    }
  }
}
