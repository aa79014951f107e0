import { useCallback, useEffect, useState } from 'react';
import { fetchAdminJobs, type AdminJob, type JobStatus } from './admin-api';

export interface AdminJobsState {
  readonly jobs: readonly AdminJob[];
  readonly nextCursor: string | null;
  /** True until the first page of this filter arrived. */
  readonly initial: boolean;
  readonly loading: boolean;
  readonly error?: string;
  readonly updatedAt?: Date;
  loadMore(): void;
  /** Reads the first page again now (after a cancel). */
  refresh(): void;
}

/**
 * Every user's jobs for the admin table, newest first, filtered by status. The first page is
 * read again every `intervalMs` while the tab is visible, so running jobs move on by themselves;
 * once older pages are loaded the table holds still until refreshed by hand.
 */
export function useAdminJobs(status: JobStatus | undefined, intervalMs: number): AdminJobsState {
  const [state, setState] = useState<{ key: string; jobs: readonly AdminJob[]; nextCursor: string | null; paged: boolean; updatedAt: Date }>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const key = status ?? 'all';
  const current = state?.key === key ? state : undefined;
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLoading(true);
    fetchAdminJobs(status, undefined, controller.signal)
      .then((page) => {
        setError(undefined);
        // A refresh replaces the first page only while no older page is shown.
        setState((previous) => (previous?.key === key && previous.paged ? previous : { key, jobs: page.jobs, nextCursor: page.nextCursor, paged: false, updatedAt: new Date() }));
      })
      .catch((reason: Error) => {
        if (reason.name !== 'AbortError') setError(reason.message);
      })
      .finally(() => {
        if (controller.signal.aborted) return;
        setLoading(false);
        if (document.visibilityState !== 'hidden') timer = setTimeout(() => setTick((n) => n + 1), intervalMs);
      });
    const onVisibility = () => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [status, key, intervalMs, tick]);

  const loadMore = useCallback(() => {
    if (!current?.nextCursor || loading) return;
    setLoading(true);
    fetchAdminJobs(status, current.nextCursor)
      .then((page) => {
        const seen = new Set(current.jobs.map((job) => job.id));
        setState({ key, jobs: [...current.jobs, ...page.jobs.filter((job) => !seen.has(job.id))], nextCursor: page.nextCursor, paged: true, updatedAt: new Date() });
      })
      .catch((reason: Error) => setError(reason.message))
      .finally(() => setLoading(false));
  }, [current, loading, status, key]);

  const refresh = useCallback(() => {
    setState((previous) => previous && { ...previous, paged: false });
    setTick((n) => n + 1);
  }, []);

  return {
    jobs: current?.jobs ?? [],
    nextCursor: current?.nextCursor ?? null,
    initial: !current,
    loading,
    ...(error ? { error } : {}),
    ...(current ? { updatedAt: current.updatedAt } : {}),
    loadMore,
    refresh,
  };
}
