import type { SseEvent } from './sse';

/** A delivery variant of an image (SPEC §4): `normal` (JPEG) or `high` (WebP). */
export interface VariantView {
  readonly name: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly url: string;
}

/** The parts of a run's view (src/api/schemas/job-view.ts) the live panel and results use. */
export interface AssetView {
  readonly id: string;
  readonly type: 'image' | 'video';
  readonly index: number;
  readonly url: string;
  readonly thumbnailUrl: string | null;
  readonly contentType: string;
  readonly variants?: readonly VariantView[];
  readonly metadata: Record<string, unknown>;
  readonly evaluations: { readonly ssim?: number; readonly psnr?: number; readonly phash?: string; readonly batchDiversity?: number; readonly clipScore?: number };
}

export interface RunView {
  readonly runId: string;
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
  readonly mode: string;
  readonly model: string;
  /** The backend that ran it; `builtin` is the preview renderer (no model weights). */
  readonly backend?: { readonly kind: string; readonly label: string };
  readonly parameters: { readonly width: number; readonly height: number; readonly steps: number; readonly seed: number; readonly numImages: number } & Record<string, unknown>;
  readonly seed: number;
  readonly progress: { readonly fraction: number; readonly step: number; readonly totalSteps: number };
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly warnings: readonly string[];
  readonly cached: boolean;
  readonly cachedFrom: string | null;
  readonly cost: { readonly amount: number; readonly currency: string } | null;
  readonly assets: readonly AssetView[];
  readonly createdAt?: string;
}

/** What the live panel shows about the run in flight (or the last one). */
export interface LiveState {
  readonly phase: 'idle' | 'submitting' | 'running' | 'done';
  readonly run?: RunView;
  readonly status?: RunView['status'];
  readonly step: number;
  readonly totalSteps: number;
  /** 0–1. */
  readonly fraction: number;
  /** data: URL of the latest preview frame. */
  readonly preview?: string;
  readonly error?: string;
  readonly reconnecting: boolean;
  readonly cancelling: boolean;
}

export const IDLE: LiveState = { phase: 'idle', step: 0, totalSteps: 0, fraction: 0, reconnecting: false, cancelling: false };

export type LiveAction =
  | { readonly type: 'submit' }
  | { readonly type: 'accepted'; readonly run: RunView }
  | { readonly type: 'event'; readonly event: SseEvent }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'cancelling' }
  | { readonly type: 'final'; readonly run: RunView }
  | { readonly type: 'error'; readonly message: string };

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** The live state a run's view describes (a submit's answer, a final view, a listed run). */
export function fromRun(state: LiveState, run: RunView): LiveState {
  const done = TERMINAL.has(run.status);
  return {
    ...state,
    phase: done ? 'done' : 'running',
    run,
    status: run.status,
    step: run.progress.step,
    totalSteps: run.progress.totalSteps || run.parameters.steps,
    fraction: run.status === 'succeeded' ? 1 : run.progress.fraction,
    error: run.status === 'failed' ? (run.error?.message ?? 'The run failed') : state.error,
    ...(done ? { cancelling: false, reconnecting: false } : {}),
  };
}

function parse(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The live panel's reducer: submit, the run's SSE events, its final view. Pure; tested. */
export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'submit':
      return { ...IDLE, phase: 'submitting' };
    case 'accepted':
      return fromRun(state, action.run);
    case 'reconnecting':
      return { ...state, reconnecting: true };
    case 'cancelling':
      return { ...state, cancelling: true };
    case 'final':
      return fromRun(state, action.run);
    case 'error':
      return { ...state, phase: state.phase === 'submitting' ? 'idle' : 'done', error: action.message, cancelling: false };
    case 'event': {
      const data = parse(action.event.data);
      const next: LiveState = { ...state, reconnecting: false };
      switch (action.event.event) {
        case 'queued':
          return { ...next, status: 'queued' };
        case 'running':
          return { ...next, status: 'running' };
        case 'progress': {
          const step = typeof data.step === 'number' ? data.step : state.step;
          const totalSteps = typeof data.totalSteps === 'number' ? data.totalSteps : state.totalSteps;
          const fraction = typeof data.progress === 'number' ? data.progress : totalSteps > 0 ? step / totalSteps : state.fraction;
          return { ...next, status: 'running', step, totalSteps, fraction: Math.max(0, Math.min(1, fraction)) };
        }
        case 'preview': {
          // Only the picture: progress events own the step count (a preview's step, when a
          // backend sends one, may count per image while progress counts the whole batch).
          if (typeof data.image !== 'string' || !data.image.startsWith('data:image/')) return next;
          return { ...next, preview: data.image };
        }
        case 'retrying':
          return { ...next, status: 'queued', step: 0, fraction: 0 };
        case 'succeeded':
          return { ...next, status: 'succeeded', fraction: 1, step: state.totalSteps || state.step };
        case 'failed': {
          const error = data.error as { message?: unknown } | undefined;
          return { ...next, status: 'failed', error: typeof error?.message === 'string' ? error.message : 'The run failed' };
        }
        case 'canceled':
          return { ...next, status: 'canceled', cancelling: false };
        default:
          return next;
      }
    }
  }
}
