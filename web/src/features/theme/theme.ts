import { useEffect, useState } from 'react';

/** The theme the user chose; absent: follow the system (prefers-color-scheme). */
export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'atelier.theme';

export function storedTheme(): Theme | undefined {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/**
 * Puts the chosen theme on <html data-theme> (the stylesheet's dark tokens follow it, or the
 * system when there is none). Called before the first render, so the page never flashes.
 */
export function applyTheme(theme: Theme | undefined): void {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

export function saveTheme(theme: Theme): void {
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Not kept: it still applies to this page.
  }
  applyTheme(theme);
}

/** The theme in effect (the choice, else the system's, followed as it changes) and a toggle. */
export function useTheme(): { theme: Theme; toggle: () => void } {
  const [chosen, setChosen] = useState(storedTheme);
  const [system, setSystem] = useState(systemTheme);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const query = matchMedia('(prefers-color-scheme: dark)');
    const update = () => setSystem(query.matches ? 'dark' : 'light');
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  const theme = chosen ?? system;
  return {
    theme,
    toggle: () => {
      const next: Theme = theme === 'dark' ? 'light' : 'dark';
      saveTheme(next);
      setChosen(next);
    },
  };
}
