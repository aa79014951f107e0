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
}

interface Loaded {
  readonly collection: Collection;
  readonly items: readonly HistoryItem[];
  readonly total: number;
  readonly page: number;
  readonly more: boolean;
}

/** The gallery's pages for one collection; switching collections starts again at page 1. */
export function useHistory(collection: Collection): HistoryState {
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const inFlight = useRef<AbortController | undefined>(undefined);
  const current = loaded?.collection === collection ? loaded : undefined;

  const load = useCallback(
    (page: number, previous: readonly HistoryItem[]) => {
      if (inFlight.current) return;
      const controller = new AbortController();
      inFlight.current = controller;
      setLoading(true);
      setError(undefined);
      fetchHistoryPage(collection, page, controller.signal)
        .then((result) => {
          const items = appendPage(previous, result.images);
          setLoaded({ collection, items, total: result.total, page, more: hasMore(items.length, result.total, result.images.length, result.perPage) });
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
    [collection],
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

  return {
    items: current?.items ?? [],
    total: current?.total ?? 0,
    initial: !current,
    loading,
    more: current?.more ?? false,
    error,
    loadMore,
  };
}
