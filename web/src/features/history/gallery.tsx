import { Link } from '../../router';
import { expiryText } from './expiry';
import { tileSize, tileSource, type HistoryItem } from './history-api';

/** The gallery grid: each item links to its detail page. */
export function Gallery({ items }: { items: readonly HistoryItem[] }) {
  return (
    <ul className="gallery" data-testid="gallery">
      {items.map((item) => (
        <li key={item.id}>
          <GalleryItem item={item} />
        </li>
      ))}
    </ul>
  );
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function GalleryItem({ item }: { item: HistoryItem }) {
  const isVideo = item.type === 'video';
  const src = tileSource(item);
  const { width, height } = tileSize(item);
  const prompt = item.prompt.trim() || '(no prompt)';
  // Workspace items are deleted WORKSPACE_TTL_HOURS (24 h) after they were made; saved ones never.
  const expiry = expiryText(item.expiresAt, Date.now());
  return (
    <Link href={`/images/${encodeURIComponent(item.id)}`} className="gallery-item" title={prompt}>
      {/* A square box reserved before the picture loads, so the grid never jumps. */}
      <span className="thumb-box">
        {src ? (
          <img src={src} alt={`${isVideo ? 'Video' : 'Image'}: ${prompt}`} width={width} height={height} loading="lazy" decoding="async" />
        ) : (
          <span className="thumb-missing" role="img" aria-label={`${isVideo ? 'Video' : 'Image'} without a preview: ${prompt}`} />
        )}
        {isVideo && <span className="media-badge">Video</span>}
      </span>
      <span className="gallery-caption">
        <span className="caption-prompt">{prompt}</span>
        <span className="caption-meta">
          {item.modelUsed} · <time dateTime={item.createdAt}>{dateFormat.format(new Date(item.createdAt))}</time>
          {expiry && (
            <>
              {' · '}
              <span className="caption-expiry" title={`Deleted at ${dateFormat.format(new Date(item.expiresAt!))} unless saved to the library`}>
                {expiry}
              </span>
            </>
          )}
        </span>
      </span>
    </Link>
  );
}
