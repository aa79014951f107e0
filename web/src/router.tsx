import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * Four screens do not need a routing library: the path is the state, pushState changes it,
 * popstate follows the back button. The server answers every one of these paths with the app.
 * Generate is at `/` and `/generate` (which carries the run shown: `/generate?run=ID`).
 */
export type Route =
  | { readonly name: 'generate' }
  | { readonly name: 'history' }
  | { readonly name: 'asset'; readonly id: string }
  | { readonly name: 'admin' }
  | { readonly name: 'not-found' };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '' || pathname === '/generate') return { name: 'generate' };
  if (pathname === '/history') return { name: 'history' };
  if (pathname === '/admin') return { name: 'admin' };
  const asset = /^\/images\/([^/]+)$/.exec(pathname);
  if (asset) return { name: 'asset', id: decodeURIComponent(asset[1]!) };
  return { name: 'not-found' };
}

const NAVIGATE = 'atelier:navigate';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE));
  window.scrollTo({ top: 0 });
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return route;
}

/** An anchor that navigates inside the app, but still opens a new tab on ctrl/cmd-click. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
