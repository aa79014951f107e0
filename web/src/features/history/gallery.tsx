import { useEffect, useRef, useState } from 'react';
import { Link } from '../../router';
import { expiryText } from './expiry';
import { saveToLibrary, tileSize, tileSource, type HistoryItem } from './history-api';

/** The gallery grid: each item links to its detail page; workspace items can be saved from here. */
export function Gallery({ items, onSaved }: { items: readonly HistoryItem[]; onSaved?: (id: string, libraryId: string) => void }) {
  return (
    <ul className="gallery" data-testid="gallery">
      {items.map((item) => (
        <li key={item.id} className="gallery-cell">
          <GalleryItem item={item} />
          {item.collection === 'workspace' && <SaveButton item={item} onSaved={onSaved} />}
        </li>
      ))}
    </ul>
  );
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const promptOf = (item: HistoryItem) => item.prompt.trim() || '(no prompt)';

export function GalleryItem({ item }: { item: HistoryItem }) {
  const isVideo = item.type === 'video';
  const src = tileSource(item);
  const { width, height } = tileSize(item);
  const prompt = promptOf(item);
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
        </span>
      </span>
    </Link>
  );
}

/**
 * The footer of a workspace tile: how long the item has left and "Save to library" (the copy
 * is kept until deleted). Once saved (now or earlier) the tile says so instead; a refusal is
 * said in words under the button.
 */
function SaveButton({ item, onSaved }: { item: HistoryItem; onSaved?: (id: string, libraryId: string) => void }) {
  const [state, setState] = useState<{ saving: boolean; saved?: boolean; error?: string }>({ saving: false });
  const savedNote = useRef<HTMLParagraphElement>(null);
  const justSaved = !!state.saved && !!item.libraryId;
  useEffect(() => {
    if (justSaved) savedNote.current?.focus();
  }, [justSaved]);
  if (item.libraryId) {
    // Saved just now: announced, and the focus the vanished button had lands here. Saved
    // earlier: plain text (a grid of live regions would be noise).
    return (
      <p ref={savedNote} className="gallery-actions saved" {...(justSaved ? { role: 'status', tabIndex: -1 } : {})}>
        <span aria-hidden="true">✓</span> Saved to library
      </p>
    );
  }
  const save = () => {
    setState({ saving: true });
    saveToLibrary(item.id)
      .then((libraryId) => {
        setState({ saving: false, saved: true });
        onSaved?.(item.id, libraryId);
      })
      .catch((error: Error) => setState({ saving: false, error: error.message }));
  };
  // Workspace items are deleted WORKSPACE_TTL_HOURS (24 h) after they were made; saved ones never.
  const expiry = expiryText(item.expiresAt, Date.now());
  return (
    <div className="gallery-actions">
      {expiry && (
        <span className="caption-expiry" title={`Deleted at ${dateFormat.format(new Date(item.expiresAt!))} unless saved to the library`}>
          {expiry}
        </span>
      )}
      <button type="button" className="small" onClick={save} disabled={state.saving} aria-busy={state.saving} aria-label={`Save to library: ${promptOf(item)}`} title="Save to library: kept until you delete it">
        <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
          <path d="M4 2h8v12l-4-3-4 3z" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" />
        </svg>
        {state.saving ? 'Saving…' : 'Save'}
      </button>
      {state.error && (
        <span role="alert" className="error small-text">
          Not saved: {state.error}
        </span>
      )}
    </div>
  );
}
