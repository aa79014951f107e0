import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import { sizeForRatio } from '../../../../src/jobs/aspect-ratio';
import { DEFAULT_PRICING, estimateCost, type CostEstimate, type CostInput, type ModelPricing } from '../../../../src/jobs/cost';
import { effectiveMode, type FormState } from './form-state';
import { readyRef } from './image-slot';
import type { ModelInfo } from './models';

/** The size a request will render at, as the server resolves it (src/jobs/normalize-request.ts). */
export function expectedSize(form: FormState, model: ModelInfo): { width: number; height: number } {
  const base = model.defaults.width;
  const { width, height } = form.extra as { width?: unknown; height?: unknown };
  if (typeof width === 'number' || typeof height === 'number') {
    const w = typeof width === 'number' ? width : (height as number);
    const h = typeof height === 'number' ? height : w;
    return { width: w, height: h };
  }
  const ratioOf = (text: string | undefined) => {
    const match = /^(\d+):(\d+)$/.exec(text ?? '');
    return match ? Number(match[1]) / Number(match[2]) : undefined;
  };
  const chosen = ratioOf(form.aspectRatio);
  if (chosen) return sizeForRatio(chosen, base);
  const shape = form.tab === 'i2i' ? form.reference : form.tab === 'video' ? form.start : undefined;
  if (shape?.width && shape.height) return sizeForRatio(shape.width / shape.height, base);
  const fallback = ratioOf(model.defaults.aspectRatio);
  if (fallback) return sizeForRatio(fallback, base);
  return { width: model.defaults.width, height: model.defaults.height };
}

/**
 * The cost input of the form, in the terms the server's costOfSpec uses: input images
 * (reference, frames) and guidance images count as guidance, each ControlNet unit once.
 * Undefined when the form cannot be priced yet (a cleared number field).
 */
export function costInputFor(form: FormState, model: ModelInfo): CostInput | undefined {
  const mode = effectiveMode(form, model);
  const { width, height } = expectedSize(form, model);
  const video = form.tab === 'video';
  const extraFrames = (form.extra as { num_frames?: unknown }).num_frames;
  const numFrames = video ? (typeof extraFrames === 'number' ? extraFrames : Math.max(1, Math.round(form.durationSeconds * form.fps))) : undefined;
  const images = video ? [form.start, form.end] : [form.tab === 'i2i' ? form.reference : undefined, ...form.guidance];
  const input: CostInput = {
    mode,
    width,
    height,
    steps: form.steps,
    numImages: video ? 1 : form.numImages,
    ...(numFrames !== undefined ? { numFrames } : {}),
    hiresFix: form.tab === 't2i' && form.hiresFix,
    controlnetCount: !video && readyRef(form.controlImage) && form.controlType ? 1 : 0,
    guidanceImageCount: images.filter((slot) => slot !== undefined).length,
  };
  const valid = [input.width, input.height, input.steps, input.numImages, numFrames ?? 1].every((n) => Number.isFinite(n) && n > 0);
  return valid && Number.isInteger(input.numImages) && (numFrames === undefined || Number.isInteger(numFrames)) ? input : undefined;
}

/** The body of POST /api/estimate for a cost input. */
export function estimateBody(input: CostInput, model: string): Record<string, unknown> {
  return {
    model,
    mode: input.mode,
    width: input.width,
    height: input.height,
    steps: input.steps,
    num_images: input.numImages,
    ...(input.numFrames !== undefined ? { num_frames: input.numFrames } : {}),
    hires_fix: input.hiresFix ?? false,
    controlnet_count: input.controlnetCount ?? 0,
    guidance_image_count: input.guidanceImageCount ?? 0,
  };
}

export function pricingOf(model: ModelInfo): ModelPricing {
  return { ...DEFAULT_PRICING, ...(model.pricing as Partial<ModelPricing> | undefined) };
}

export interface LiveEstimate {
  readonly estimate: CostEstimate | undefined;
  /** 'server' once POST /api/estimate answered for exactly these settings. */
  readonly source: 'local' | 'server';
}

/**
 * The cost of the current settings: computed at once with the same estimateCost the server
 * uses, then confirmed by `POST /api/estimate` (debounced), which knows the model's
 * configured prices. The server's answer wins for the settings it was asked about; it is
 * not asked while the request is invalid.
 */
export function useCostEstimate(form: FormState, model: ModelInfo | undefined, askServer = true, delayMs = 300): LiveEstimate {
  const input = model ? costInputFor(form, model) : undefined;
  const key = input && model ? JSON.stringify(estimateBody(input, model.name)) : '';
  const local = useMemo(() => {
    if (!input || !model) return undefined;
    try {
      return estimateCost(input, pricingOf(model));
    } catch {
      return undefined;
    }
    // The key captures every input of the estimate.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const [server, setServer] = useState<{ key: string; estimate: CostEstimate }>();

  useEffect(() => {
    // A request the schema refuses would be refused here too (422): the local estimate stands.
    if (!key || !askServer) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api<CostEstimate>('/api/estimate', { body: JSON.parse(key), signal: controller.signal })
        .then((estimate) => setServer({ key, estimate }))
        .catch(() => undefined); // the local estimate stands
    }, delayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key, askServer, delayMs]);

  if (server && server.key === key) return { estimate: server.estimate, source: 'server' };
  return { estimate: local, source: 'local' };
}
