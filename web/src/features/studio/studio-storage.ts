import type { PersistStorage, StorageValue } from 'zustand/middleware';

/**
 * Where the studio is kept between reloads: sessionStorage (this tab, gone when it closes),
 * under a key per signed-in user so one user never sees another's work. Progress events
 * change the state many times a second, so writes are coalesced: the latest state is kept
 * and serialised at most once per `delayMs`, and at once when the page is hidden.
 */
export function studioStorage<S>(delayMs = 250): PersistStorage<S> & { flush(): void } {
  const pending = new Map<string, StorageValue<S>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const store = (): Storage | undefined => {
    try {
      return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
    } catch {
      return undefined; // storage refused (private mode): the studio lives in memory only
    }
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const [name, value] of pending) {
      try {
        store()?.setItem(name, JSON.stringify(value));
      } catch {
        // Full: keep the in-memory state; the next write tries again.
      }
    }
    pending.clear();
  };
  if (typeof addEventListener === 'function') addEventListener('pagehide', flush);
  return {
    getItem: (name) => {
      const waiting = pending.get(name);
      if (waiting) return waiting;
      const raw = store()?.getItem(name);
      if (!raw) return null;
      try {
        return JSON.parse(raw) as StorageValue<S>;
      } catch {
        return null; // unreadable: start afresh
      }
    },
    setItem: (name, value) => {
      // Before a user is bound the name has no owner: nothing is written.
      if (!name.includes(':')) return;
      pending.set(name, value);
      timer ??= setTimeout(flush, delayMs);
    },
    removeItem: (name) => {
      pending.delete(name);
      store()?.removeItem(name);
    },
    flush,
  };
}

export const STORAGE_PREFIX = 'atelier.studio';

export const storageName = (userId: string) => `${STORAGE_PREFIX}:${userId}`;
