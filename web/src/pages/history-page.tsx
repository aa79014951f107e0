import { useEffect, useRef } from 'react';
import { Link } from '../router';
import { CollectionFilter } from '../features/history/collection-filter';
import { Gallery } from '../features/history/gallery';
import { SearchBox } from '../features/history/search-box';
import { useCollection } from '../features/history/use-collection';
import { useDebounced } from '../features/history/use-debounced';
import { useHistory } from '../features/history/use-history';
import { useInfiniteScroll } from '../features/history/use-infinite-scroll';
import { collectionHref } from '../features/history/history-api';
import { rememberGalleryOrder, rememberHistoryPath } from '../features/history/return-path';
import '../styles/history.css';

/** How long typing pauses before the search is asked of the server. */
const SEARCH_DELAY_MS = 250;

/** The gallery of past work, newest first, one collection at a time, searchable by prompt. */
export function HistoryPage() {
  const [{ collection, q }, setCollection, setSearch] = useCollection();
  const search = useDebounced(q.trim(), SEARCH_DELAY_MS);
  const history = useHistory(collection, search);
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => rememberHistoryPath(collectionHref(collection, search)), [collection, search]);
  useEffect(() => {
    if (!history.initial) rememberGalleryOrder(history.items.map((item) => item.id));
  }, [history.items, history.initial]);
  // Off while a page loads: the observer is re-created afterwards and fires again if the
  // sentinel is still in view (a short page), so scrolling keeps paging without a jump.
  useInfiniteScroll(sentinel, history.loadMore, history.more && !history.loading && !history.error);

  return (
    <section className="history-page" aria-busy={history.loading}>
      <div className="history-head">
        <h1>History</h1>
        <CollectionFilter value={collection} onChange={setCollection} />
        <SearchBox value={q} onChange={setSearch} />
        {!history.initial && (
          <p className="muted history-count" aria-live="polite">
            {countText(history.items.length, history.total, search)}
          </p>
        )}
      </div>

      {history.error && (
        <p role="alert" className="error">
          Could not load the history: {history.error}
        </p>
      )}
      {history.initial && history.loading && <p className="loading">Loading…</p>}
      {!history.initial && history.items.length === 0 && (
        <div className="empty card">
          {search ? (
            <>
              <p className="empty-title">No prompts contain “{search}”</p>
              <p className="muted">
                The search looks in the {collection === 'library' ? 'library' : 'workspace'}; try fewer words{collection === 'workspace' ? ' or the Library' : ' or the Workspace'}.
              </p>
            </>
          ) : (
            <>
              <p className="empty-title">Nothing here yet</p>
              <p className="muted">
                {collection === 'library' ? (
                  'Items you save to the library stay here until you delete them.'
                ) : (
                  <>
                    What you make on the <Link href="/">Generate</Link> screen shows up here.
                  </>
                )}
              </p>
            </>
          )}
        </div>
      )}
      {history.items.length > 0 && <Gallery items={history.items} onSaved={(id, libraryId) => history.update(id, { libraryId })} />}

      <div ref={sentinel} className="scroll-sentinel" aria-hidden="true" />
      {(history.more || (history.loading && !history.initial)) && (
        <div className="load-more">
          {/* The name stays "Load more" while loading (tests and screen readers find it by name). */}
          <button type="button" onClick={history.loadMore} disabled={history.loading} aria-busy={history.loading}>
            Load more
          </button>
          {history.loading && <span className="muted">Loading…</span>}
        </div>
      )}
    </section>
  );
}

function countText(shown: number, total: number, search: string): string {
  const items = shown < total ? `${shown} of ${total}` : total === 1 ? '1 item' : `${total} items`;
  return search ? `${items} matching “${search}”` : items;
}
