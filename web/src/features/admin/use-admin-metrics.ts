import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import { appendSample, queueDepth, type AdminMetrics } from './metrics';

export const REFRESH_SECONDS = 5;

export type MetricsState =
  | { readonly status: 'loading' }
  | { readonly status: 'forbidden' }
  | { readonly status: 'error'; readonly message: string; readonly last?: AdminMetrics; readonly depth: readonly number[] }
  | { readonly status: 'ready'; readonly metrics: AdminMetrics; readonly depth: readonly number[]; readonly updatedAt: Date };

/**
 * Reads the dashboard figures now and every {@link REFRESH_SECONDS} while the tab is visible
 * (a hidden tab stops polling and catches up on return). Each read adds a queue-depth sample.
 */
export function useAdminMetrics(intervalMs = REFRESH_SECONDS * 1000): MetricsState {
  const [state, setState] = useState<MetricsState>({ status: 'loading' });
  const depth = useRef<number[]>([]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    let stopped = false;

    const load = async () => {
      clearTimeout(timer);
      controller?.abort();
      controller = new AbortController();
      try {
        const metrics = await api<AdminMetrics>('/api/admin/metrics', { signal: controller.signal });
        if (stopped) return;
        depth.current = appendSample(depth.current, queueDepth(metrics.queue));
        setState({ status: 'ready', metrics, depth: depth.current, updatedAt: new Date() });
      } catch (error) {
        if (stopped || (error as Error).name === 'AbortError') return;
        if (error instanceof ApiError && error.status === 403) {
          setState({ status: 'forbidden' });
          return; // no point asking again
        }
        setState((previous) => ({
          status: 'error',
          message: (error as Error).message,
          last: previous.status === 'ready' ? previous.metrics : previous.status === 'error' ? previous.last : undefined,
          depth: depth.current,
        }));
      }
      schedule();
    };
    const schedule = () => {
      if (!stopped && document.visibilityState !== 'hidden') timer = setTimeout(() => void load(), intervalMs);
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') void load();
      else clearTimeout(timer);
    };

    void load();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs]);

  return state;
}
