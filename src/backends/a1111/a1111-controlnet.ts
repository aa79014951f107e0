import { CONTROLNET_TYPES, type ControlNetType } from '../../jobs/conditioning.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { UnrecoverableError } from '../../errors/signals.js';

/**
 * The ControlNet extension's (Mikubill/sd-webui-controlnet) preprocessor module per control
 * type: it turns the control image into the map the model was trained on.
 */
export const A1111_CONTROLNET_MODULES: Readonly<Record<ControlNetType, string>> = Object.freeze({
  canny: 'canny',
  depth: 'depth_midas',
  pose: 'openpose',
  scribble: 'scribble_pidinet',
  lineart: 'lineart_realistic',
});

/**
 * ControlNet 1.1's SD 1.5 models (lllyasviel/ControlNet-v1-1), the extension's usual set.
 * The extension matches a model by name with or without its `[hash]`; configure
 * `controlnetModels` for SDXL or other files, or `{}` for a server without the extension.
 */
export const DEFAULT_A1111_CONTROLNET_MODELS: Readonly<Record<ControlNetType, string>> = Object.freeze({
  canny: 'control_v11p_sd15_canny',
  depth: 'control_v11f1p_sd15_depth',
  pose: 'control_v11p_sd15_openpose',
  scribble: 'control_v11p_sd15_scribble',
  lineart: 'control_v11p_sd15_lineart',
});

/** The control types a model table covers, in the canonical order. */
export function controlnetTypesOf(models: Partial<Record<ControlNetType, string>>): ControlNetType[] {
  return CONTROLNET_TYPES.filter((type) => models[type] !== undefined);
}

/**
 * `alwayson_scripts` for a spec's ControlNet units (the extension's API: one arg object per
 * unit, fields of its `ControlNetUnit`): base64 control image, module and model for the type,
 * `weight`, `guidance_start`/`guidance_end`. `save_detected_map: false` keeps the detected
 * maps out of the response's `images`, which must hold only the batch. Empty when the spec
 * has no units, so other requests are unchanged.
 */
export function controlnetScripts(spec: JobSpec, controlImages: readonly Buffer[] | undefined, models: Partial<Record<ControlNetType, string>>): Record<string, unknown> {
  const units = spec.controlnet ?? [];
  if (units.length === 0) return {};
  if (controlImages?.length !== units.length) {
    throw new UnrecoverableError(`The job names ${units.length} ControlNet units but ${controlImages?.length ?? 0} control images were loaded`, 'invalid_parameter');
  }
  const args = units.map((unit, i) => {
    const model = models[unit.type];
    if (model === undefined) throw new UnrecoverableError(`The AUTOMATIC1111 backend has no ControlNet model for '${unit.type}'`, 'conditioning_unsupported');
    return {
      enabled: true,
      image: controlImages[i]!.toString('base64'),
      module: A1111_CONTROLNET_MODULES[unit.type],
      model,
      weight: unit.weight,
      guidance_start: unit.start,
      guidance_end: unit.end,
      resize_mode: 'Crop and Resize',
      pixel_perfect: true,
      control_mode: 'Balanced',
      save_detected_map: false,
    };
  });
  return { alwayson_scripts: { controlnet: { args } } };
}
