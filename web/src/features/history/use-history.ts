import { useCallback, useEffect, useRef, useState } from 'react';
import { appendPage, fetchHistoryPage, hasMore, type Collection, type HistoryItem } from './history-api';

export interface HistoryState {
  readonly items: readonly HistoryItem[];
  readonly total: number;
  /** True before the first page of this collection arrived. */
  readonly initial: boolean;
  readonly loading: boolean;
  readonly more: boolean;
  readonly error?: string;
  /** Loads the next page; a call while one is loading does nothing (scroll and button share it). */
  loadMore(): void;
  /** Replaces one shown item (e.g. once it is saved to the library). */
  update(id: string, patch: Partial<HistoryItem>): void;
}

interface Loaded {
  /** The collection and search these items are of. */
  readonly key: string;
  readonly items: readonly HistoryItem[];
  readonly total: number;
  readonly page: number;
  readonly more: boolean;
}

/**
 * The gallery's pages for one collection, optionally only the items whose prompt contains `q`;
 * switching collections or changing the search starts again at page 1.
 */
export function useHistory(collection: Collection, q = ''): HistoryState {
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const inFlight = useRef<AbortController | undefined>(undefined);
  const key = `${collection}\n${q}`;
  const current = loaded?.key === key ? loaded : undefined;
  // While another search or collection loads, the last items stay (the page is aria-busy) rather
  // than the grid emptying at every keystroke.
  const shown = current ?? (error ? undefined : loaded);

  const load = useCallback(
    (page: number, previous: readonly HistoryItem[]) => {
      if (inFlight.current) return;
      const controller = new AbortController();
      inFlight.current = controller;
      setLoading(true);
      setError(undefined);
      fetchHistoryPage(collection, page, controller.signal, q)
        .then((result) => {
          const items = appendPage(previous, result.images);
          setLoaded({ key: `${collection}\n${q}`, items, total: result.total, page, more: hasMore(items.length, result.total, result.images.length, result.perPage) });
        })
        .catch((reason: Error) => {
          if (reason.name !== 'AbortError') setError(reason.message);
        })
        .finally(() => {
          if (inFlight.current === controller) {
            inFlight.current = undefined;
            setLoading(false);
          }
        });
    },
    [collection, q],
  );

  useEffect(() => {
    load(1, []);
    return () => {
      inFlight.current?.abort();
      inFlight.current = undefined;
    };
  }, [load]);

  const loadMore = useCallback(() => {
    if (current?.more) load(current.page + 1, current.items);
  }, [current, load]);

  const update = useCallback((id: string, patch: Partial<HistoryItem>) => {
    setLoaded((shown) => shown && { ...shown, items: shown.items.map((item) => (item.id === id ? { ...item, ...patch } : item)) });
  }, []);

  return {
    items: shown?.items ?? [],
    total: shown?.total ?? 0,
    initial: !shown,
    loading,
    more: current?.more ?? false,
    error,
    loadMore,
    update,
  };
}
