import { useEffect, useRef, type RefObject } from 'react';

/**
 * Calls `onReach` when the sentinel scrolls within `margin` of the viewport (and again each time
 * it re-enters after the content grew). Without IntersectionObserver the "Load more" button
 * remains the way to page.
 */
export function useInfiniteScroll(sentinel: RefObject<Element | null>, onReach: () => void, enabled: boolean, margin = '400px'): void {
  const callback = useRef(onReach);
  callback.current = onReach;
  useEffect(() => {
    const element = sentinel.current;
    if (!enabled || !element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) callback.current();
      },
      { rootMargin: `0px 0px ${margin} 0px` },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [sentinel, enabled, margin]);
}
