import { PREVIEW_RENDERER_TEXT } from '../generate/models';
import type { LiveState } from './run-state';

const STATUS_TEXT: Record<string, string> = {
  queued: 'Queued',
  running: 'Rendering',
  succeeded: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
};

/**
 * The status of the run on the canvas: bar, step count, preview frames, cancel, the cache
 * badge and the preview renderer's badge, errors (with Retry when the server was out of reach).
 */
export function LivePanel({
  live,
  onCancel,
  aspectRatio,
  preview,
  onRetry,
}: {
  live: LiveState;
  onCancel: () => void;
  aspectRatio: string;
  /** The run is the preview renderer's (no model weights). */
  preview?: boolean;
  /** Offered with the error when trying again can help. */
  onRetry?: () => void;
}) {
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
            {preview && (
              <span data-testid="status-preview-badge" className="badge badge-preview" title="The built-in renderer draws shapes and colours from the prompt; outputs are marked PREVIEW">
                {PREVIEW_RENDERER_TEXT}
              </span>
            )}
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
          {active && (
            // The frame holds the picture's place from the start, so the first preview moves nothing.
            <div className="live-preview" style={{ aspectRatio, width: `min(100%, calc(var(--fit-h, 60vh) * ${aspectRatio}))` }}>
              {live.preview ? <img src={live.preview} alt="Live preview" /> : <span className="live-wait">{live.status === 'running' ? 'Rendering…' : 'Waiting for its turn…'}</span>}
            </div>
          )}
        </div>
      )}
      {live.error && (
        <div role="alert" className="error live-error">
          <span>{live.error}</span>
          {onRetry && (
            <button type="button" className="small" onClick={onRetry}>
              Retry
            </button>
          )}
        </div>
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
