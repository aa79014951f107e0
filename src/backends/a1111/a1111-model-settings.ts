import type { JobSpec } from '../../jobs/job-spec.js';
import { appliedLoras, promptWithLoraTags } from '../../jobs/loras.js';

/**
 * The prompt A1111 receives: the job's, with its LoRAs (the model's, then the request's) as
 * `<lora:name:weight>` tags, which A1111's built-in Lora extension reads and removes before
 * encoding — the only way its API takes LoRAs.
 *
 * @example a1111Prompt({ prompt: 'a fox', loras: [{ name: 'detail', weight: 0.6 }] }) // 'a fox <lora:detail:0.6>'
 */
export function a1111Prompt(spec: Pick<JobSpec, 'prompt' | 'loras' | 'backendSettings'>): string {
  return promptWithLoraTags(spec.prompt, appliedLoras(spec));
}

/**
 * `override_settings` for a job: the model's checkpoint over the backend's configured one
 * (`sd_model_checkpoint`), its VAE (`sd_vae`) and clip skip (`CLIP_stop_at_last_layers`,
 * A1111's own 1-based count). Undefined when there is nothing to override, so the server's
 * current settings apply.
 *
 * @example a1111OverrideSettings({ backendSettings: { vae: 'kl-f8.safetensors' } }, 'sdxl.safetensors') // { sd_model_checkpoint: 'sdxl.safetensors', sd_vae: 'kl-f8.safetensors' }
 */
export function a1111OverrideSettings(spec: Pick<JobSpec, 'backendSettings'>, configuredCheckpoint: string | undefined): Record<string, string | number> | undefined {
  const { checkpoint = configuredCheckpoint, vae, clipSkip } = spec.backendSettings ?? {};
  const settings = {
    ...(checkpoint !== undefined ? { sd_model_checkpoint: checkpoint } : {}),
    ...(vae !== undefined ? { sd_vae: vae } : {}),
    ...(clipSkip !== undefined ? { CLIP_stop_at_last_layers: clipSkip } : {}),
  };
  return Object.keys(settings).length > 0 ? settings : undefined;
}
