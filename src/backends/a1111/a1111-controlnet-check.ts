/**
 * What the ControlNet extension will load for a unit, mirrored so a unit it would fail on is
 * refused first: it raises inside A1111's script runner, which logs the error and renders
 * without ControlNet, so the job would "succeed" unconditioned.
 */
export interface A1111ControlNetLists {
  /** GET /controlnet/model_list: `"<file stem> [<hash>]"` entries (Forge adds "None"). */
  readonly models: readonly string[];
  /** GET /controlnet/module_list names and, from `?alias_names=true`, labels. */
  readonly modules: ReadonlySet<string>;
  /**
   * sd-webui-controlnet (its module_list has `module_detail`) finds a model leniently;
   * Forge's built-in ControlNet takes only a listed entry.
   */
  readonly lenient: boolean;
}

const stem = (entry: string) => entry.replace(/\s*\[[^\]]+\]\s*$/, '');

/**
 * The listed entry the extension loads for `requested`, or undefined. sd-webui-controlnet
 * (controlnet.py `build_control_model`, `find_closest_lora_model_name`): the entry itself,
 * else the entry whose stem equals it case-insensitively, else the shortest stem containing
 * it. Forge (`global_state.get_controlnet_filename`): the entry itself only.
 */
export function controlnetModelEntry(lists: A1111ControlNetLists, requested: string): string | undefined {
  const models = lists.models.filter((entry) => entry !== 'None');
  if (requested === '' || requested === 'None') return undefined;
  if (models.includes(requested)) return requested;
  if (!lists.lenient) return undefined;
  const wanted = requested.toLowerCase();
  const exact = models.find((entry) => stem(entry).toLowerCase() === wanted);
  if (exact !== undefined) return exact;
  return models.filter((entry) => stem(entry).toLowerCase().includes(wanted)).sort((a, b) => stem(a).length - stem(b).length)[0];
}

/** A listed entry that looks like `requested`, to suggest in a refusal (Forge wants the `[hash]`). */
export function similarControlnetModel(lists: A1111ControlNetLists, requested: string): string | undefined {
  const wanted = stem(requested).toLowerCase();
  return lists.models.find((entry) => entry !== 'None' && stem(entry).toLowerCase() === wanted);
}

/** Parses the list bodies, or returns undefined when they are not those shapes. */
export function parseControlnetLists(modelBody: unknown, moduleBody: unknown, labelBody: unknown): A1111ControlNetLists | undefined {
  const list = (body: unknown, key: string): string[] | undefined => {
    const value = (body as Record<string, unknown> | null)?.[key];
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  };
  const models = list(modelBody, 'model_list');
  const names = list(moduleBody, 'module_list');
  if (!models || !names) return undefined;
  const lenient = typeof (moduleBody as Record<string, unknown>).module_detail === 'object';
  return { models, modules: new Set([...names, ...(list(labelBody, 'module_list') ?? [])]), lenient };
}
