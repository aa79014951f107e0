/** ComfyUI's two KSampler inputs that together make what A1111 calls one sampler. */
export interface ComfySampler {
  /** KSampler `sampler_name`, e.g. `dpmpp_2m`. */
  readonly sampler_name: string;
  /** KSampler `scheduler`, e.g. `karras`; ComfyUI's default is `normal`. */
  readonly scheduler: string;
}

/**
 * Atelier's sampler names (A1111's, which the API and the builtin renderer use) mapped to
 * ComfyUI's. "Karras" in an A1111 name is a noise schedule, not a sampler, so it moves to
 * `scheduler`. The first entry is the default.
 */
export const DEFAULT_COMFY_SAMPLERS: Readonly<Record<string, ComfySampler>> = Object.freeze({
  Euler: { sampler_name: 'euler', scheduler: 'normal' },
  'Euler a': { sampler_name: 'euler_ancestral', scheduler: 'normal' },
  'DPM++ 2M': { sampler_name: 'dpmpp_2m', scheduler: 'normal' },
  'DPM++ 2M Karras': { sampler_name: 'dpmpp_2m', scheduler: 'karras' },
  DDIM: { sampler_name: 'ddim', scheduler: 'ddim_uniform' },
});
