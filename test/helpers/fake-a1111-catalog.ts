/**
 * What the fake A1111 lists, in the shapes the real API answers, and how the real server
 * resolves a requested name against those lists. Lists are transcribed from the source:
 * sampler tables from `modules/sd_samplers_kdiffusion.py`, `sd_samplers_timesteps.py` and
 * `sd_samplers_lcm.py` of A1111 1.8 and 1.10; schedulers from `sd_schedulers.py` (1.10);
 * checkpoint aliases from `sd_models.CheckpointInfo`; ControlNet names from
 * Mikubill/sd-webui-controlnet (`global_state.get_all_models`, `preprocessor_compiled.py`)
 * and Forge's built-in `sd_forge_controlnet`. File hashes are illustrative except the two
 * checkpoints' sha256, which are those of the published files.
 */

export type FakeA1111Version = '1.8' | '1.10';
/** `extension`: A1111 + sd-webui-controlnet; `forge`: Forge's built-in ControlNet; `none`: not installed. */
export type FakeControlNetFlavour = 'extension' | 'forge' | 'none';

/** An item of GET /sdapi/v1/samplers (api.py `get_samplers`). */
export interface FakeSampler {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly options: Readonly<Record<string, unknown>>;
}

const s = (name: string, aliases: string[], options: Record<string, unknown> = {}): FakeSampler => ({ name, aliases, options });
const KARRAS = { scheduler: 'karras' };
const EXPONENTIAL = { scheduler: 'exponential' };

/** A1111 1.8: every scheduler variant is its own sampler ("DPM++ 2M Karras"). */
export const SAMPLERS_1_8: readonly FakeSampler[] = Object.freeze([
  s('DPM++ 2M Karras', ['k_dpmpp_2m_ka'], KARRAS),
  s('DPM++ SDE Karras', ['k_dpmpp_sde_ka'], { ...KARRAS, second_order: true, brownian_noise: true }),
  s('DPM++ 2M SDE Exponential', ['k_dpmpp_2m_sde_exp'], { ...EXPONENTIAL, brownian_noise: true }),
  s('DPM++ 2M SDE Karras', ['k_dpmpp_2m_sde_ka'], { ...KARRAS, brownian_noise: true }),
  s('Euler a', ['k_euler_a', 'k_euler_ancestral'], { uses_ensd: true }),
  s('Euler', ['k_euler']),
  s('LMS', ['k_lms']),
  s('Heun', ['k_heun'], { second_order: true }),
  s('DPM2', ['k_dpm_2'], { discard_next_to_last_sigma: true, second_order: true }),
  s('DPM2 a', ['k_dpm_2_a'], { discard_next_to_last_sigma: true, uses_ensd: true, second_order: true }),
  s('DPM++ 2S a', ['k_dpmpp_2s_a'], { uses_ensd: true, second_order: true }),
  s('DPM++ 2M', ['k_dpmpp_2m']),
  s('DPM++ SDE', ['k_dpmpp_sde'], { second_order: true, brownian_noise: true }),
  s('DPM++ 2M SDE', ['k_dpmpp_2m_sde_ka'], { brownian_noise: true }),
  s('DPM++ 2M SDE Heun', ['k_dpmpp_2m_sde_heun'], { brownian_noise: true, solver_type: 'heun' }),
  s('DPM++ 2M SDE Heun Karras', ['k_dpmpp_2m_sde_heun_ka'], { ...KARRAS, brownian_noise: true, solver_type: 'heun' }),
  s('DPM++ 2M SDE Heun Exponential', ['k_dpmpp_2m_sde_heun_exp'], { ...EXPONENTIAL, brownian_noise: true, solver_type: 'heun' }),
  s('DPM++ 3M SDE', ['k_dpmpp_3m_sde'], { discard_next_to_last_sigma: true, brownian_noise: true }),
  s('DPM++ 3M SDE Karras', ['k_dpmpp_3m_sde_ka'], { ...KARRAS, discard_next_to_last_sigma: true, brownian_noise: true }),
  s('DPM++ 3M SDE Exponential', ['k_dpmpp_3m_sde_exp'], { ...EXPONENTIAL, discard_next_to_last_sigma: true, brownian_noise: true }),
  s('DPM fast', ['k_dpm_fast'], { uses_ensd: true }),
  s('DPM adaptive', ['k_dpm_ad'], { uses_ensd: true }),
  s('LMS Karras', ['k_lms_ka'], KARRAS),
  s('DPM2 Karras', ['k_dpm_2_ka'], { ...KARRAS, discard_next_to_last_sigma: true, uses_ensd: true, second_order: true }),
  s('DPM2 a Karras', ['k_dpm_2_a_ka'], { ...KARRAS, discard_next_to_last_sigma: true, uses_ensd: true, second_order: true }),
  s('DPM++ 2S a Karras', ['k_dpmpp_2s_a_ka'], { ...KARRAS, uses_ensd: true, second_order: true }),
  s('Restart', ['restart'], { ...KARRAS, second_order: true }),
  s('DDIM', ['ddim']),
  s('PLMS', ['plms']),
  s('UniPC', ['unipc']),
  s('LCM', ['k_lcm']),
]);

/** A1111 1.10 (scheduler picked separately since 1.9); the first entry is the fallback. */
export const SAMPLERS_1_10: readonly FakeSampler[] = Object.freeze([
  s('DPM++ 2M', ['k_dpmpp_2m'], KARRAS),
  s('DPM++ SDE', ['k_dpmpp_sde'], { ...KARRAS, second_order: true, brownian_noise: true }),
  s('DPM++ 2M SDE', ['k_dpmpp_2m_sde'], { ...EXPONENTIAL, brownian_noise: true }),
  s('DPM++ 2M SDE Heun', ['k_dpmpp_2m_sde_heun'], { ...EXPONENTIAL, brownian_noise: true, solver_type: 'heun' }),
  s('DPM++ 2S a', ['k_dpmpp_2s_a'], { ...KARRAS, uses_ensd: true, second_order: true }),
  s('DPM++ 3M SDE', ['k_dpmpp_3m_sde'], { ...EXPONENTIAL, discard_next_to_last_sigma: true, brownian_noise: true }),
  s('Euler a', ['k_euler_a', 'k_euler_ancestral'], { uses_ensd: true }),
  s('Euler', ['k_euler']),
  s('LMS', ['k_lms']),
  s('Heun', ['k_heun'], { second_order: true }),
  s('DPM2', ['k_dpm_2'], { ...KARRAS, discard_next_to_last_sigma: true, second_order: true }),
  s('DPM2 a', ['k_dpm_2_a'], { ...KARRAS, discard_next_to_last_sigma: true, uses_ensd: true, second_order: true }),
  s('DPM fast', ['k_dpm_fast'], { uses_ensd: true }),
  s('DPM adaptive', ['k_dpm_ad'], { uses_ensd: true }),
  s('Restart', ['restart'], { ...KARRAS, second_order: true }),
  s('DDIM', ['ddim']),
  s('DDIM CFG++', ['ddim_cfgpp']),
  s('PLMS', ['plms']),
  s('UniPC', ['unipc']),
  s('LCM', ['k_lcm']),
]);

/** An item of GET /sdapi/v1/schedulers (1.9+; a 404 on 1.8). */
export interface FakeScheduler {
  readonly name: string;
  readonly label: string;
  readonly aliases: readonly string[] | null;
  readonly default_rho: number;
  readonly need_inner_model: boolean;
}

const sch = (name: string, label: string, extra: Partial<FakeScheduler> = {}): FakeScheduler => ({ name, label, aliases: null, default_rho: -1, need_inner_model: false, ...extra });

export const SCHEDULERS_1_10: readonly FakeScheduler[] = Object.freeze([
  sch('automatic', 'Automatic'),
  sch('uniform', 'Uniform', { need_inner_model: true }),
  sch('karras', 'Karras', { default_rho: 7 }),
  sch('exponential', 'Exponential'),
  sch('polyexponential', 'Polyexponential', { default_rho: 1 }),
  sch('sgm_uniform', 'SGM Uniform', { aliases: ['SGMUniform'], need_inner_model: true }),
  sch('kl_optimal', 'KL Optimal'),
  sch('align_your_steps', 'Align Your Steps'),
  sch('simple', 'Simple', { need_inner_model: true }),
  sch('normal', 'Normal', { need_inner_model: true }),
  sch('ddim', 'DDIM', { need_inner_model: true }),
  sch('beta', 'Beta', { need_inner_model: true }),
]);

/**
 * How the server picks the sampler for a request's `sampler_name`. 1.8 (api.py
 * `validate_sampler_name`): the exact name or HTTP 404 "Sampler not found". 1.9+ and Forge
 * (sd_samplers.py `get_sampler_and_scheduler`): strip a trailing " <scheduler>" (label, name
 * or alias), then look the name up; an unknown one silently becomes the first sampler.
 * Neither accepts an alias (`all_samplers_map` is keyed by name only).
 */
export function resolveSampler(version: FakeA1111Version, samplers: readonly FakeSampler[], requested: string): string | undefined {
  const byName = new Map(samplers.map((x) => [x.name, x.name]));
  if (version === '1.8') return byName.get(requested);
  let name = requested || samplers[0]!.name;
  for (const scheduler of SCHEDULERS_1_10) {
    for (const option of [scheduler.label, scheduler.name, ...(scheduler.aliases ?? [])]) {
      if (name.endsWith(` ${option}`)) {
        name = name.slice(0, -(option.length + 1));
        break;
      }
    }
  }
  return byName.get(name) ?? samplers[0]!.name;
}

/** A checkpoint file in models/Stable-diffusion. */
export interface FakeCheckpoint {
  /** Path under models/Stable-diffusion, e.g. `SDXL/sd_xl_base_1.0.safetensors`. */
  readonly name: string;
  readonly sha256: string | null;
  /** The old 8-digit `model_hash`. */
  readonly hash8: string;
}

export const DEFAULT_CHECKPOINTS: readonly FakeCheckpoint[] = Object.freeze([
  { name: 'v1-5-pruned-emaonly.safetensors', sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa', hash8: '81761151' },
  { name: 'sd_xl_base_1.0.safetensors', sha256: '31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b', hash8: 'be9edd61' },
]);

const stem = (path: string) => (path.split(/[\\/]/).at(-1) ?? path).replace(/\.[^.]+$/, '');

/** sd_models.py `CheckpointInfo`: its title and every id registered in `checkpoint_aliases`. */
export function checkpointInfo(c: FakeCheckpoint) {
  const shorthash = c.sha256?.slice(0, 10);
  const modelName = c.name.replace(/[\\/]/g, '_').replace(/\.[^.]+$/, '');
  const title = shorthash ? `${c.name} [${shorthash}]` : c.name;
  const ids = [c.hash8, modelName, title, c.name, stem(c.name), `${c.name} [${c.hash8}]`];
  if (shorthash && c.sha256) ids.push(shorthash, c.sha256, `${c.name} [${shorthash}]`, `${stem(c.name)} [${shorthash}]`);
  return { title, modelName, shorthash, ids };
}

/** An item of GET /sdapi/v1/sd-models. */
export function sdModelItem(c: FakeCheckpoint) {
  const { title, modelName, shorthash } = checkpointInfo(c);
  return { title, model_name: modelName, hash: shorthash ?? null, sha256: c.sha256, filename: `/stable-diffusion-webui/models/Stable-diffusion/${c.name}`, config: null };
}

/**
 * processing.py `process_images`: an override naming no `checkpoint_aliases` entry is dropped
 * and the current model renders. Returns the checkpoint that renders.
 */
export function resolveCheckpoint(checkpoints: readonly FakeCheckpoint[], current: FakeCheckpoint, requested: unknown): FakeCheckpoint {
  if (typeof requested !== 'string') return current;
  return checkpoints.find((c) => checkpointInfo(c).ids.includes(requested)) ?? current;
}

/** ControlNet model files: the extension lists `"<stem> [<model_hash>]"`. */
export const DEFAULT_CONTROLNET_MODELS: readonly string[] = Object.freeze([
  'control_v11f1p_sd15_depth [cfd03158]',
  'control_v11p_sd15_canny [d14c016b]',
  'control_v11p_sd15_lineart [43d4be0d]',
  'control_v11p_sd15_openpose [cab727d4]',
  'control_v11p_sd15_scribble [d4ba51ff]',
  'diffusers_xl_depth_full [2f51180b]',
]);

/** A preprocessor as {internal name, UI label}; Forge names its legacy ones by the label. */
export interface FakeControlNetModule {
  readonly name: string;
  readonly label: string;
}

export const CONTROLNET_MODULES: readonly FakeControlNetModule[] = Object.freeze([
  { name: 'none', label: 'none' },
  { name: 'canny', label: 'canny' },
  { name: 'depth', label: 'depth_midas' },
  { name: 'depth_zoe', label: 'depth_zoe' },
  { name: 'openpose', label: 'openpose' },
  { name: 'openpose_full', label: 'openpose_full' },
  { name: 'pidinet_scribble', label: 'scribble_pidinet' },
  { name: 'lineart', label: 'lineart_realistic' },
  { name: 'lineart_anime', label: 'lineart_anime' },
]);

/** GET /controlnet/model_list. */
export function controlnetModelList(flavour: FakeControlNetFlavour, models: readonly string[]): { model_list: string[] } {
  return { model_list: flavour === 'forge' ? ['None', ...models] : [...models] };
}

/** GET /controlnet/module_list; Forge ignores `alias_names` and has no `module_detail`. */
export function controlnetModuleList(flavour: FakeControlNetFlavour, modules: readonly FakeControlNetModule[], aliasNames: boolean): Record<string, unknown> {
  if (flavour === 'forge') return { module_list: ['None', ...modules.filter((m) => m.name !== 'none').map((m) => m.label)] };
  const list = modules.map((m) => (aliasNames ? m.label : m.name));
  return { module_list: list, module_detail: Object.fromEntries(list.map((key) => [key, { model_free: key === 'none', sliders: [] }])) };
}

const stripHash = (entry: string) => entry.replace(/\s*\[[^\]]+\]\s*$/, '');

/**
 * Whether a unit's model loads. The extension (controlnet.py `build_control_model` and
 * `find_closest_lora_model_name`): the listed entry, or its stem case-insensitively, or the
 * shortest stem containing the text. Forge (`global_state.get_controlnet_filename`): the
 * listed entry only.
 */
export function controlnetModelLoads(flavour: FakeControlNetFlavour, models: readonly string[], requested: unknown): boolean {
  if (typeof requested !== 'string' || requested === '' || requested === 'None') return false;
  if (models.includes(requested)) return true;
  if (flavour !== 'extension') return false;
  const wanted = requested.toLowerCase();
  return models.some((entry) => stripHash(entry).toLowerCase().includes(wanted));
}

/** Whether a unit's module is a preprocessor: by name or label (extension), by name (Forge). */
export function controlnetModuleKnown(flavour: FakeControlNetFlavour, modules: readonly FakeControlNetModule[], requested: unknown): boolean {
  if (typeof requested !== 'string') return false;
  if (flavour === 'forge') return requested === 'None' || modules.some((m) => m.label === requested);
  return modules.some((m) => m.name === requested || m.label === requested);
}
