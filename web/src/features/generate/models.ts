/** A generation mode as the registry names it (src/jobs/job-spec.ts). */
export type ModelMode = 't2i' | 'i2i' | 't2v' | 'i2v' | 'ti2v';

/** What a model can condition on (absent on servers that predate ControlNet support). */
export interface ModelCapabilities {
  /** ControlNet types the model applies; empty: none. */
  readonly controlnet: readonly string[];
  /** Most guidance images one job may carry; 0: none. */
  readonly guidanceImages: number;
  /** Runs hires fix on text-to-image (a server that does not say accepted it). */
  readonly hiresFix: boolean;
}

/** One entry of `GET /api/models`. */
export interface ModelInfo {
  readonly name: string;
  readonly label: string;
  readonly default: boolean;
  /** Runs on the built-in preview renderer: no model weights, outputs marked PREVIEW (absent on older servers). */
  readonly preview?: boolean;
  readonly modes: readonly string[];
  readonly defaults: {
    readonly width: number;
    readonly height: number;
    readonly steps: number;
    readonly cfgScale: number;
    readonly sampler: string;
    /** The aspect ratio of a request without a size or input image (width/height are then the base resolution). */
    readonly aspectRatio?: string;
  };
  readonly limits: { readonly maxWidth: number; readonly maxHeight: number; readonly maxSteps: number; readonly maxImages: number };
  readonly samplers: readonly string[];
  readonly capabilities?: Partial<ModelCapabilities>;
  /** Prices, when the server publishes them (else the estimate endpoint knows them). */
  readonly pricing?: Record<string, unknown>;
}

export type Tab = 't2i' | 'i2i' | 'video';

export const VIDEO_MODES: readonly ModelMode[] = ['t2v', 'i2v', 'ti2v'];

/** Whether a model belongs in a tab's model list. */
export function offersTab(model: ModelInfo, tab: Tab): boolean {
  if (tab === 'video') return model.modes.some((mode) => (VIDEO_MODES as readonly string[]).includes(mode));
  return model.modes.includes(tab);
}

export function modelsForTab(models: readonly ModelInfo[], tab: Tab): ModelInfo[] {
  return models.filter((model) => offersTab(model, tab));
}

/** What the preview renderer is, wherever it shows: results, run status, model picker. */
export const PREVIEW_RENDERER_TEXT = 'Preview renderer — no model weights';

/** The option text of a model: its name, the modes it offers, and whether it is the preview renderer. */
export function modelOptionText(model: ModelInfo): string {
  return `${model.name} — ${model.modes.join(', ')}${model.preview ? ` (${PREVIEW_RENDERER_TEXT})` : ''}`;
}

/** Capabilities with the "none" defaults when the server does not say. */
export function capabilitiesOf(model: ModelInfo | undefined): ModelCapabilities {
  return { controlnet: model?.capabilities?.controlnet ?? [], guidanceImages: model?.capabilities?.guidanceImages ?? 0, hiresFix: model?.capabilities?.hiresFix ?? true };
}
