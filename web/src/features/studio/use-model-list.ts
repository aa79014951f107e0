import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { ModelInfo } from '../generate/models';
import { setModels, useStudio } from './studio-store';

/**
 * The model list: the one kept with the studio at once (no empty picker on return or reload),
 * refreshed from `GET /api/models` on every visit. Returns the error when it could not load
 * and none is known.
 */
export function useModelList(): { models: readonly ModelInfo[] | undefined; error: string | undefined } {
  const models = useStudio((state) => state.models);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const controller = new AbortController();
    api<{ models: ModelInfo[] }>('/api/models', { signal: controller.signal })
      .then((data) => {
        setError(undefined);
        setModels(data.models);
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err instanceof Error ? err.message : String(err));
      });
    return () => controller.abort();
  }, []);
  return { models, error: models ? undefined : error };
}
