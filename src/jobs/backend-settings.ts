import type { Lora } from './loras.js';

/**
 * What a registry model asks of its backend beyond the job's parameters, so one ComfyUI or
 * AUTOMATIC1111 server can serve several models. Names are the backend's own: a ComfyUI file
 * name (`sd_xl_base_1.0.safetensors`), an A1111 checkpoint title or LoRA name.
 */
export interface BackendSettings {
  /** Overrides the backend's configured checkpoint for this model's jobs. */
  readonly checkpoint?: string;
  readonly vae?: string;
  /** Applied before the request's LoRAs (see appliedLoras). */
  readonly loras?: readonly Lora[];
  /** CLIP layers skipped from the end, A1111's way: 1 = none, 2 = the penultimate layer. */
  readonly clipSkip?: number;
}

/**
 * The model's settings as they go into a JobSpec: a frozen copy, or undefined when the model
 * has none, so a job records what it ran with even if the configuration changes later.
 *
 * @example resolveBackendSettings({ checkpoint: 'anime.safetensors', clipSkip: 2 }) // { checkpoint: 'anime.safetensors', clipSkip: 2 }
 */
export function resolveBackendSettings(settings: BackendSettings | undefined): BackendSettings | undefined {
  if (settings === undefined) return undefined;
  const resolved: BackendSettings = {
    ...(settings.checkpoint !== undefined ? { checkpoint: settings.checkpoint } : {}),
    ...(settings.vae !== undefined ? { vae: settings.vae } : {}),
    ...(settings.loras?.length ? { loras: Object.freeze(settings.loras.map(({ name, weight }) => Object.freeze({ name, weight }))) } : {}),
    ...(settings.clipSkip !== undefined ? { clipSkip: settings.clipSkip } : {}),
  };
  return Object.keys(resolved).length === 0 ? undefined : Object.freeze(resolved);
}
