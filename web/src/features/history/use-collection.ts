import { useCallback, useEffect, useState } from 'react';
import { navigate } from '../../router';
import { collectionHref, parseCollection, parseSearch, type Collection } from './history-api';

export interface HistoryView {
  readonly collection: Collection;
  /** The prompt search as typed ('' for none). */
  readonly q: string;
}

const read = (): HistoryView => ({ collection: parseCollection(location.search), q: parseSearch(location.search) });

/**
 * The chosen collection and the prompt search live in the URL (`?collection=library&q=fox`), so
 * a reload keeps them and the back button returns to the previous collection. Typing replaces
 * the current history entry instead of adding one per keystroke.
 */
export function useCollection(): [HistoryView, (next: Collection) => void, (q: string) => void] {
  const [view, setView] = useState<HistoryView>(read);
  useEffect(() => {
    const update = () => setView(read());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  const choose = useCallback((next: Collection) => {
    const current = read();
    if (next === current.collection) return;
    setView({ ...current, collection: next });
    navigate(collectionHref(next, current.q));
  }, []);
  const search = useCallback((q: string) => {
    const current = read();
    setView({ ...current, q });
    history.replaceState(history.state, '', collectionHref(current.collection, q));
  }, []);
  return [view, choose, search];
}
