import { useEffect, useRef, useState } from 'react';

/**
 * The rendered width of an element, followed with ResizeObserver. Charts draw their viewBox at
 * this width so 11px text stays 11px on a phone and on a wide screen (a scaled viewBox would
 * shrink or blow up the labels). `fallback` is used before layout and where there is none.
 */
export function useWidth<T extends HTMLElement>(fallback: number) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const measure = () => {
      const w = Math.round(element.getBoundingClientRect().width);
      if (w > 0) setWidth(w);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}
