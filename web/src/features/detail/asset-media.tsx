import type { AssetDetail, RunView } from './detail-api';
import { displayVariant } from './parameters';

/**
 * The asset itself in a box of its own aspect ratio (no jump while it loads): a video with its
 * controls and poster, or the best delivery variant of an image linking to the original.
 */
export function AssetMedia({ detail, run }: { detail: AssetDetail; run: RunView | undefined }) {
  const ratio = `${detail.width} / ${detail.height}`;
  if (detail.type === 'video') {
    return (
      <div className="media-frame" style={{ aspectRatio: ratio }}>
        <video controls playsInline preload="metadata" poster={detail.thumbnailUrl ?? undefined} src={detail.imageUrl} width={detail.width} height={detail.height} aria-label={`Video: ${detail.prompt}`} />
      </div>
    );
  }
  const shown = displayVariant(detail, run);
  return (
    <div className="media-frame" style={{ aspectRatio: ratio }}>
      <a href={detail.imageUrl} target="_blank" rel="noopener" title="Open the original">
        <img src={shown.url} alt={detail.prompt || 'Generated image'} width={shown.width} height={shown.height} decoding="async" />
      </a>
    </div>
  );
}
