import type { JobSpec } from '../jobs/job-spec.js';
import { appliedLoras } from '../jobs/loras.js';

/** The asset metadata (snake_case, SPEC §4 style) of a job's LoRAs and its model's backend settings. */
export interface SettingsProvenance {
  /** The LoRAs applied (the model's own, then the request's), when any. */
  readonly loras?: readonly { readonly name: string; readonly weight: number }[];
  /** The model's checkpoint, VAE and clip skip, when its configuration sets them. */
  readonly backend_settings?: { readonly checkpoint?: string; readonly vae?: string; readonly clip_skip?: number };
}

/**
 * What an image or video asset records about its LoRAs and backend settings: only the fields
 * the job has, so assets of plain jobs keep the metadata they always had.
 *
 * @example settingsProvenance(spec) // { loras: [{ name: 'house-style', weight: 0.8 }], backend_settings: { clip_skip: 2 } }
 */
export function settingsProvenance(spec: Pick<JobSpec, 'loras' | 'backendSettings'>): SettingsProvenance {
  const loras = appliedLoras(spec);
  const { checkpoint, vae, clipSkip } = spec.backendSettings ?? {};
  const settings = {
    ...(checkpoint !== undefined ? { checkpoint } : {}),
    ...(vae !== undefined ? { vae } : {}),
    ...(clipSkip !== undefined ? { clip_skip: clipSkip } : {}),
  };
  return {
    ...(loras.length > 0 ? { loras: loras.map(({ name, weight }) => ({ name, weight })) } : {}),
    ...(Object.keys(settings).length > 0 ? { backend_settings: settings } : {}),
  };
}
