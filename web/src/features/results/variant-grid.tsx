import type { CSSProperties } from 'react';
import { Link } from '../../router';
import { PREVIEW_RENDERER_TEXT } from '../generate/models';
import type { AssetView, RunView } from '../live/run-state';
import { displayUrl, isFlagged, seedOf } from '../studio/run-requests';

/** The scores worth showing, formatted (pHash is an identifier, not a score). */
export function scoreLines(evaluations: AssetView['evaluations']): string[] {
  const lines: string[] = [];
  if (evaluations.clipScore !== undefined) lines.push(`CLIP ${evaluations.clipScore.toFixed(3)}`);
  if (evaluations.ssim !== undefined) lines.push(`SSIM ${evaluations.ssim.toFixed(3)}`);
  if (evaluations.psnr !== undefined) lines.push(`PSNR ${evaluations.psnr.toFixed(1)} dB`);
  if (evaluations.batchDiversity !== undefined) lines.push(`Diversity ${evaluations.batchDiversity.toFixed(2)}`);
  return lines;
}

/** Columns that keep a batch large in a landscape panel: 1, 2 (up to 4), 3 (up to 6), 4. */
export function columnsFor(count: number, ratio: number): number {
  if (count <= 1) return 1;
  if (count === 2) return ratio > 1.4 ? 1 : 2;
  if (count <= 4) return 2;
  if (count <= 6) return 3;
  return 4;
}

export function sortedAssets(run: RunView): AssetView[] {
  return [...run.assets].sort((a, b) => a.index - b.index);
}

export interface ResultActions {
  /** Opens the viewer at this image. */
  readonly onView: (index: number) => void;
  readonly onVary?: (asset: AssetView) => void;
  readonly onUpscale?: (asset: AssetView) => void;
  /** Why Upscale cannot run for this run (shown as the disabled button's title). */
  readonly upscaleRefusal?: string;
}

/**
 * The images (or videos) of a finished run, large: the `high` variant sized to fit the panel
 * (CSS computes each frame from the panel height, the rows and the run's ratio, so nothing
 * jumps when the pictures arrive), each with its seed and its actions.
 */
export function VariantGrid({ run, preview, actions }: { run: RunView; preview?: boolean; actions?: ResultActions }) {
  const { width, height } = run.parameters;
  const assets = sortedAssets(run);
  if (assets.length === 0) return null;
  const ratio = width / height;
  const cols = columnsFor(assets.length, ratio);
  const style = { '--cols': cols, '--rows': Math.ceil(assets.length / cols), '--ratio': ratio } as CSSProperties;
  return (
    <section className="results" aria-label="Results">
      <ul data-testid="variant-grid" className="variant-grid" style={style} data-count={assets.length}>
        {assets.map((asset, i) => {
          const scores = scoreLines(asset.evaluations);
          const video = asset.type === 'video';
          const src = video ? asset.thumbnailUrl : displayUrl(asset);
          const seed = seedOf(asset, run);
          return (
            <li key={asset.id} className="variant" data-testid="result">
              {/* The picture opens the viewer on click; keyboard users have the View button. */}
              <div className="thumb" onClick={() => actions?.onView(i)}>
                {src ? <img src={src} alt={`Result ${i + 1}`} decoding="async" /> : <span className="thumb-missing">Result {i + 1}</span>}
                {video && (
                  <span className="play-badge" aria-hidden="true">
                    ▶
                  </span>
                )}
                <span className="result-badges">
                  {preview && (
                    <span data-testid="preview-badge" className="badge badge-preview">
                      {PREVIEW_RENDERER_TEXT}
                    </span>
                  )}
                  {isFlagged(asset) && (
                    <span data-testid="flagged-badge" className="badge badge-flagged" title="A safety check flagged this image">
                      Flagged
                    </span>
                  )}
                </span>
              </div>
              <div className="result-bar">
                <span data-testid="result-seed" className="result-seed">
                  Seed {seed}
                </span>
                <span className="result-actions">
                  <Link href={`/images/${encodeURIComponent(asset.id)}`} className="result-details" aria-label={`Details of result ${i + 1}`}>
                    Details
                  </Link>
                  {actions && (
                    <button type="button" className="ghost small" onClick={() => actions.onView(i)} aria-label={`View result ${i + 1}`}>
                      View
                    </button>
                  )}
                  {actions?.onVary && (
                    <button type="button" className="ghost small" onClick={() => actions.onVary!(asset)} aria-label={`Vary result ${i + 1}`} title="Same settings, a new seed: queues a new run">
                      Vary
                    </button>
                  )}
                  {actions?.onUpscale && !video && (
                    <button
                      type="button"
                      className="ghost small"
                      onClick={() => actions.onUpscale!(asset)}
                      disabled={!!actions.upscaleRefusal}
                      aria-label={`Upscale result ${i + 1}`}
                      title={actions.upscaleRefusal ?? `Hires fix at seed ${seed}, twice the size where the model allows: queues a new run`}
                    >
                      Upscale
                    </button>
                  )}
                </span>
              </div>
              {scores.length > 0 && (
                <p data-testid="scores" className="scores">
                  {scores.join(' · ')}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
