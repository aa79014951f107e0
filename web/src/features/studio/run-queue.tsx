import type { KeyboardEvent } from 'react';
import { Link } from '../../router';
import type { ModelInfo } from '../generate/models';
import { isActive, type RunEntry } from './run-entries';
import { isPreviewRun } from './run-requests';

const STATUS: Record<string, string> = { queued: 'Queued', running: 'Rendering', succeeded: 'Done', failed: 'Failed', canceled: 'Canceled' };

/** What a queue entry says about its run, in a few words. */
export function statusText(entry: RunEntry): string {
  const { live } = entry;
  if (live.phase === 'submitting') return 'Sending…';
  if (entry.offline) return 'Not sent: no connection';
  if (live.cancelling) return 'Cancelling…';
  if (!entry.runId && live.error) return 'Refused';
  const status = live.status ?? 'queued';
  if (status === 'running') return `Rendering ${Math.round(live.fraction * 100)}%`;
  if (status === 'succeeded') {
    // Between the stream's `succeeded` and the final view, the pictures are not listed yet.
    if (live.run?.status !== 'succeeded') return 'Done';
    const count = live.run.assets.length;
    return `Done · ${count} ${live.run.mode.endsWith('v') ? (count === 1 ? 'video' : 'videos') : count === 1 ? 'image' : 'images'}`;
  }
  return STATUS[status] ?? status;
}

/**
 * The run queue: what was sent, what waits, what renders and what finished, newest first —
 * this session's runs and the user's recent ones (`GET /api/runs`). Selecting one shows it on
 * the canvas; Cancel (or Escape on a focused run) stops one in flight; Retry sends again what
 * never reached the server.
 */
export function RunQueue({
  runs,
  selected,
  models,
  onSelect,
  onCancel,
  onRetry,
}: {
  runs: readonly RunEntry[];
  selected: string | undefined;
  models: readonly ModelInfo[] | undefined;
  onSelect: (key: string) => void;
  onCancel: (key: string) => void;
  onRetry: (key: string) => void;
}) {
  const active = runs.filter(isActive).length;
  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>, entry: RunEntry) => {
    if (event.key !== 'Escape' || !isActive(entry) || !entry.runId) return;
    event.preventDefault();
    onCancel(entry.key);
  };
  return (
    <section className="run-queue" aria-labelledby="run-queue-title">
      {/* The link sits in the heading row: the list grows below it, and nothing moves when it loads. */}
      <div className="queue-head">
        <h2 id="run-queue-title" className="queue-title">
          Runs{' '}
          <span className="muted" data-testid="queue-count">
            {active > 0 ? `· ${active} in progress` : runs.length > 0 ? `· ${runs.length}` : ''}
          </span>
        </h2>
        <Link href="/history" className="queue-more">
          All in History
        </Link>
      </div>
      {runs.length === 0 ? (
        <p className="muted queue-empty">Runs you start appear here; you can queue several.</p>
      ) : (
        <ol data-testid="run-queue" className="queue-list">
          {runs.map((entry) => {
            const run = entry.live.run;
            const thumb = run?.assets.find((asset) => asset.index === 0)?.thumbnailUrl ?? undefined;
            const inFlight = isActive(entry);
            const preview = run ? isPreviewRun(run, models) : false;
            return (
              <li
                key={entry.key}
                className="queue-item"
                data-testid="run-item"
                data-run-id={entry.runId}
                data-status={entry.offline ? 'offline' : entry.live.phase === 'submitting' ? 'sending' : (entry.live.status ?? 'queued')}
                aria-current={entry.key === selected ? 'true' : undefined}
                onKeyDown={(event) => onKeyDown(event, entry)}
              >
                <button type="button" className="queue-select" onClick={() => onSelect(entry.key)} aria-describedby={`${entry.key}-status`}>
                  <span className="queue-thumb" aria-hidden="true">
                    {thumb ? <img src={thumb} alt="" loading="lazy" /> : null}
                  </span>
                  <span className="queue-label">{entry.label}</span>
                </button>
                <span id={`${entry.key}-status`} className="queue-status">
                  {statusText(entry)}
                  {preview && <span className="badge badge-preview small-badge">Preview</span>}
                  {run?.cached && <span className="badge small-badge">Cached</span>}
                </span>
                {inFlight && entry.runId && (
                  <span className="progress small queue-progress" aria-hidden="true">
                    <span className="progress-fill" style={{ width: `${Math.round(entry.live.fraction * 100)}%` }} />
                  </span>
                )}
                <span className="queue-actions">
                  {inFlight && entry.runId && (
                    <button type="button" className="ghost small" onClick={() => onCancel(entry.key)} disabled={entry.live.cancelling} aria-label={`Cancel run: ${entry.label}`}>
                      Cancel
                    </button>
                  )}
                  {entry.offline && (
                    <button type="button" className="ghost small" onClick={() => onRetry(entry.key)} aria-label={`Retry run: ${entry.label}`}>
                      Retry
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
