import { api, ApiError } from '../../api/client';

export interface Evaluations {
  readonly ssim?: number;
  readonly psnr?: number;
  readonly phash?: string;
  readonly batchDiversity?: number;
  readonly clipScore?: number;
}

/** `GET /api/images/:id`: one image or video (seed 003 shape, plus `type`). */
export interface AssetDetail {
  readonly id: string;
  readonly runId: string;
  readonly type?: 'image' | 'video';
  readonly prompt: string;
  readonly negativePrompt: string | null;
  /** The original (signed). */
  readonly imageUrl: string;
  /** A video's poster. */
  readonly thumbnailUrl: string | null;
  readonly width: number;
  readonly height: number;
  readonly modelUsed: string;
  readonly parameters: { readonly steps: number; readonly cfgScale: number; readonly sampler: string; readonly seed: number };
  /** Seconds from start to finish of the run. */
  readonly generationTime: number | null;
  /** SPEC §4 metadata, snake_case (seed, fps, duration_seconds, file_size_bytes, …). */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly evaluations: Evaluations;
  readonly collection: 'workspace' | 'library';
  /** The library item holding this one (itself when in the library), null when not saved. */
  readonly libraryId?: string | null;
  readonly expiresAt: string | null;
  readonly createdAt: string;
}

export interface InputImageView {
  readonly uploadId?: string;
  readonly assetId?: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
}

export interface Variant {
  readonly name: string;
  readonly preset: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly url: string;
}

/** The parts of `GET /api/status/:runId` the detail page shows (mode, cost, cache, variants…). */
export interface RunView {
  readonly runId: string;
  readonly status: string;
  readonly mode: string;
  readonly model: string;
  readonly backend: { readonly kind: string; readonly label: string };
  readonly parameters: {
    readonly prompt: string;
    readonly negativePrompt: string | null;
    readonly width: number;
    readonly height: number;
    readonly steps: number;
    readonly cfgScale: number;
    readonly sampler: string;
    readonly seed: number;
    readonly numImages: number;
    readonly hiresFix: boolean;
    readonly priority: number;
    readonly denoiseStrength?: number;
    readonly exactCopy?: boolean;
    readonly referenceImage?: InputImageView;
    readonly startImage?: InputImageView;
    readonly endImage?: InputImageView;
    readonly numFrames?: number;
    readonly fps?: number;
    readonly guidanceImages?: readonly InputImageView[];
    readonly controlnet?: readonly { readonly type: string; readonly weight: number; readonly start: number; readonly end: number; readonly image: InputImageView }[];
  };
  readonly seed: number;
  readonly cached: boolean;
  readonly cachedFrom: string | null;
  readonly cost: { readonly amount: number; readonly currency: string; readonly breakdown: Readonly<Record<string, number>> } | null;
  readonly warnings: readonly string[];
  readonly assets: readonly { readonly id: string; readonly index: number; readonly variants: readonly Variant[] }[];
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export type DetailResult =
  | { readonly status: 'ready'; readonly detail: AssetDetail; readonly run?: RunView }
  | { readonly status: 'not-found' }
  | { readonly status: 'error'; readonly message: string };

/**
 * The asset and, when it can be read, its run (for the mode, cost, cache and variants the
 * asset detail lacks). A run that cannot be read only leaves those rows out.
 */
export async function fetchAsset(id: string, signal?: AbortSignal): Promise<DetailResult> {
  let detail: AssetDetail;
  try {
    detail = await api<AssetDetail>(`/api/images/${encodeURIComponent(id)}`, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { status: 'not-found' };
    throw error;
  }
  const run = await api<RunView>(`/api/status/${encodeURIComponent(detail.runId)}`, { signal }).catch((error: Error) => {
    if (error.name === 'AbortError') throw error;
    return undefined;
  });
  return { status: 'ready', detail, run };
}

export function saveToLibrary(id: string): Promise<AssetDetail> {
  return api<AssetDetail>(`/api/images/${encodeURIComponent(id)}/save`, { method: 'POST' });
}

export async function deleteAsset(id: string): Promise<void> {
  await api<void>(`/api/images/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
