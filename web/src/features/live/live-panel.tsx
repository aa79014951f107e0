import type { LiveState } from './run-state';

const STATUS_TEXT: Record<string, string> = {
  queued: 'Queued',
  running: 'Rendering',
  succeeded: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
};

/** Progress of the run in flight: bar, step count, preview frames, cancel, cache badge, errors. */
export function LivePanel({ live, onCancel, aspectRatio }: { live: LiveState; onCancel: () => void; aspectRatio: string }) {
  if (live.phase === 'idle' && !live.error) return null;
  const percent = Math.round(live.fraction * 100);
  const active = live.phase === 'submitting' || live.phase === 'running';
  return (
    <section className="live" aria-label="Progress">
      {live.phase === 'submitting' && <p className="muted">Submitting…</p>}
      {live.run && (
        <div data-testid="job-progress" className="job-progress">
          <div className="live-head">
            <span className="live-status" aria-live="polite">
              {live.cancelling ? 'Cancelling…' : (STATUS_TEXT[live.status ?? ''] ?? live.status)}
              {live.reconnecting && ' · reconnecting…'}
            </span>
            {live.run.cached && (
              <span data-testid="cache-badge" className="badge badge-cache" title={live.run.cachedFrom ? `Copied from run ${live.run.cachedFrom}` : 'From the prompt cache'}>
                Cached
              </span>
            )}
            {active && (
              <button type="button" className="ghost" onClick={onCancel} disabled={live.cancelling}>
                Cancel
              </button>
            )}
          </div>
          <div role="progressbar" aria-label="Run progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="progress">
            <div className="progress-fill" style={{ width: `${percent}%` }} />
          </div>
          <p className="step-text">
            {live.totalSteps > 0 ? `Step ${live.step} / ${live.totalSteps}` : 'Waiting to start'}
            <span className="muted"> · {percent}%</span>
          </p>
          {live.preview && active && (
            <div className="live-preview" style={{ aspectRatio }}>
              <img src={live.preview} alt="Live preview" />
            </div>
          )}
        </div>
      )}
      {live.error && (
        <p role="alert" className="error">
          {live.error}
        </p>
      )}
      {live.run?.warnings && live.run.warnings.length > 0 && (
        <ul className="warnings">
          {live.run.warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
