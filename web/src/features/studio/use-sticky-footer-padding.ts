import { useLayoutEffect, type RefObject } from 'react';

/**
 * Keeps focus from hiding under the sticky footer: the page's scroll-padding-bottom follows
 * the footer's height (it wraps on narrow screens and grows with the cost breakdown), so a
 * focused field scrolled into view stops above it.
 */
export function useStickyFooterPadding(footer: RefObject<HTMLElement | null>, gap = 12): void {
  useLayoutEffect(() => {
    const el = footer.current;
    const root = document.documentElement;
    if (!el) return;
    const update = () => root.style.setProperty('--footer-space', `${Math.ceil(el.getBoundingClientRect().height) + gap}px`);
    update();
    const observer = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(update);
    observer?.observe(el);
    return () => {
      observer?.disconnect();
      root.style.removeProperty('--footer-space');
    };
  }, [footer, gap]);
}
