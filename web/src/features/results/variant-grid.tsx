import { Link } from '../../router';
import type { AssetView, RunView } from '../live/run-state';

/** The scores worth showing, formatted (pHash is an identifier, not a score). */
export function scoreLines(evaluations: AssetView['evaluations']): string[] {
  const lines: string[] = [];
  if (evaluations.clipScore !== undefined) lines.push(`CLIP ${evaluations.clipScore.toFixed(3)}`);
  if (evaluations.ssim !== undefined) lines.push(`SSIM ${evaluations.ssim.toFixed(3)}`);
  if (evaluations.psnr !== undefined) lines.push(`PSNR ${evaluations.psnr.toFixed(1)} dB`);
  if (evaluations.batchDiversity !== undefined) lines.push(`Diversity ${evaluations.batchDiversity.toFixed(2)}`);
  return lines;
}

/**
 * The images (or videos) of a finished run. Each thumbnail sits in a box with the run's
 * aspect ratio before it loads, so nothing jumps.
 */
export function VariantGrid({ run }: { run: RunView }) {
  const { width, height } = run.parameters;
  const assets = [...run.assets].sort((a, b) => a.index - b.index);
  if (assets.length === 0) return null;
  return (
    <section className="results" aria-label="Results">
      <h2 className="section-title">
        Results <span className="muted">· seed {run.seed}</span>
      </h2>
      <ul data-testid="variant-grid" className="variant-grid">
        {assets.map((asset, i) => {
          const scores = scoreLines(asset.evaluations);
          const video = asset.type === 'video';
          const src = video ? asset.thumbnailUrl : (asset.thumbnailUrl ?? asset.url);
          return (
            <li key={asset.id} className="variant">
              <Link href={`/images/${encodeURIComponent(asset.id)}`} className="variant-link">
                <span className="thumb" style={{ aspectRatio: `${width} / ${height}` }}>
                  {src ? <img src={src} alt={`Result ${i + 1}`} decoding="async" /> : <span className="thumb-missing">Result {i + 1}</span>}
                  {video && (
                    <span className="play-badge" aria-hidden="true">
                      ▶
                    </span>
                  )}
                </span>
              </Link>
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
