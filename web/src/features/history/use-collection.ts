import { useCallback, useEffect, useState } from 'react';
import { navigate } from '../../router';
import { collectionHref, parseCollection, type Collection } from './history-api';

/**
 * The chosen collection lives in the URL (`?collection=library`), so a reload keeps it and the
 * back button returns to the previous choice.
 */
export function useCollection(): [Collection, (next: Collection) => void] {
  const [collection, setCollection] = useState<Collection>(() => parseCollection(location.search));
  useEffect(() => {
    const update = () => setCollection(parseCollection(location.search));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  const choose = useCallback((next: Collection) => {
    if (next === parseCollection(location.search)) return;
    setCollection(next);
    navigate(collectionHref(next));
  }, []);
  return [collection, choose];
}
