import { useState } from 'react';
import type { ModelInfo } from '../generate/models';
import { LivePanel } from '../live/live-panel';
import { Lightbox } from '../results/lightbox';
import { VariantGrid } from '../results/variant-grid';
import { cancelRun, retryRun, submitRun } from './run-actions';
import type { RunEntry } from './run-entries';
import { isPreviewRun, upscaleRefusal, upscaleRequest, varyRequest } from './run-requests';

/**
 * The canvas: the selected run, as large as the panel allows — its status while it renders
 * (with the live preview), then its results with the viewer, Vary and Upscale.
 */
export function Canvas({ entry, models }: { entry: RunEntry | undefined; models: readonly ModelInfo[] | undefined }) {
  const [viewing, setViewing] = useState<{ key: string; index: number }>();
  if (!entry) {
    return (
      <div className="gen-empty">
        <p>Your results appear here.</p>
        <p className="muted">Write a prompt and press Generate (or Ctrl+Enter). Press it again to queue more runs.</p>
      </div>
    );
  }
  const { live } = entry;
  const run = live.run;
  const preview = run ? isPreviewRun(run, models) : false;
  const model = run ? models?.find((m) => m.name === run.model) : undefined;
  const ratio = run ? `${run.parameters.width} / ${run.parameters.height}` : '1 / 1';
  const shown = run && run.status === 'succeeded' ? run : undefined;
  return (
    <div className="canvas" data-run-id={entry.runId}>
      <LivePanel live={live} onCancel={() => void cancelRun(entry.key)} aspectRatio={ratio} preview={preview} {...(entry.offline ? { onRetry: () => void retryRun(entry.key) } : {})} />
      {shown && (
        <VariantGrid
          run={shown}
          preview={preview}
          actions={{
            onView: (index) => setViewing({ key: entry.key, index }),
            onVary: () => {
              const { path, body } = varyRequest(shown);
              void submitRun(path, body, `Vary · ${entry.label}`);
            },
            onUpscale: (asset) => {
              const { path, body } = upscaleRequest(shown, asset, model);
              void submitRun(path, body, `Upscale · ${entry.label}`);
            },
            ...(upscaleRefusal(shown, model) ? { upscaleRefusal: upscaleRefusal(shown, model) } : {}),
          }}
        />
      )}
      {shown && viewing && viewing.key === entry.key && (
        <Lightbox run={shown} index={viewing.index} preview={preview} onIndex={(index) => setViewing({ key: entry.key, index })} onClose={() => setViewing(undefined)} />
      )}
    </div>
  );
}
