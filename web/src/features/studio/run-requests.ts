import { capabilitiesOf, type ModelInfo } from '../generate/models';
import type { RequestBody } from '../generate/request-body';
import type { AssetView, RunView } from '../live/run-state';

/** The seed an image of a run was made with (image i of a batch uses seed + i). */
export function seedOf(asset: AssetView, run: RunView): number {
  const seed = asset.metadata.seed;
  return typeof seed === 'number' ? seed : run.seed + asset.index;
}

/** "Vary": the run again with the same settings and inputs and a new random seed. */
export function varyRequest(run: RunView): { path: string; body: RequestBody } {
  return { path: `/api/runs/${encodeURIComponent(run.runId)}/rerun`, body: { seed: -1 } };
}

/** Why an image cannot be upscaled with hires fix, or undefined when it can. */
export function upscaleRefusal(run: RunView, model: ModelInfo | undefined): string | undefined {
  if (run.mode !== 't2i') return 'Hires fix is a text-to-image pass';
  if (model && !capabilitiesOf(model).hiresFix) return `${model.name} has no hires fix pass`;
  return undefined;
}

const roundDown8 = (n: number) => Math.max(64, Math.floor(n / 8) * 8);

type InputView = { readonly uploadId?: string; readonly assetId?: string } | undefined;

function ref(view: InputView): RequestBody | undefined {
  if (view?.assetId) return { asset_id: view.assetId };
  if (view?.uploadId) return { upload_id: view.uploadId };
  return undefined;
}

/**
 * "Upscale": one image again at its own seed with hires fix on, at twice the size where the
 * model allows (else as large as it allows, at least the same size). Text-to-image only.
 */
export function upscaleRequest(run: RunView, asset: AssetView, model: ModelInfo | undefined): { path: string; body: RequestBody } {
  const p = run.parameters as RunView['parameters'] & {
    prompt?: string;
    negativePrompt?: string | null;
    cfgScale?: number;
    sampler?: string;
    guidanceImages?: InputView[];
    controlnet?: { type: string; weight: number; start: number; end: number; image: InputView }[];
    loras?: { name: string; weight: number }[];
  };
  const { width, height } = p;
  const scale = Math.max(1, Math.min(2, (model?.limits.maxWidth ?? width * 2) / width, (model?.limits.maxHeight ?? height * 2) / height));
  const body: RequestBody = {
    prompt: p.prompt ?? '',
    model: run.model,
    width: roundDown8(width * scale),
    height: roundDown8(height * scale),
    steps: p.steps,
    ...(p.cfgScale !== undefined ? { cfg_scale: p.cfgScale } : {}),
    ...(p.sampler ? { sampler: p.sampler } : {}),
    seed: seedOf(asset, run),
    num_images: 1,
    hires_fix: true,
  };
  if (p.negativePrompt) body.negative_prompt = p.negativePrompt;
  const guidance = (p.guidanceImages ?? []).map(ref).filter((r) => r !== undefined);
  if (guidance.length > 0) body.guidance_images = guidance;
  const units = (p.controlnet ?? []).flatMap((unit) => {
    const image = ref(unit.image);
    return image ? [{ image, type: unit.type, weight: unit.weight, start: unit.start, end: unit.end }] : [];
  });
  if (units.length > 0) body.controlnet = units;
  if (p.loras && p.loras.length > 0) body.loras = p.loras;
  return { path: '/api/generate/text-to-image', body };
}

/** The preview renderer made this run (no model weights): its backend says so, or its model does. */
export function isPreviewRun(run: RunView, models: readonly ModelInfo[] | undefined): boolean {
  return run.backend?.kind === 'builtin' || models?.find((model) => model.name === run.model)?.preview === true;
}

/** A safety check flagged the image (metadata.safety.flagged); absent: nothing to say. */
export function isFlagged(asset: AssetView): boolean {
  const safety = asset.metadata.safety;
  return !!safety && typeof safety === 'object' && (safety as { flagged?: unknown }).flagged === true;
}

/** The image to show large: the `high` delivery variant, else the original. */
export function displayUrl(asset: AssetView): string {
  return asset.variants?.find((variant) => variant.name === 'high')?.url ?? asset.url;
}
