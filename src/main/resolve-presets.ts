import type { ModelConfig } from '../backends/model-registry.js';
import { AtelierError } from '../errors/atelier-error.js';
import { DEFAULT_PRESETS, validatePresets, type DeliveryPreset } from '../media/image/presets.js';
import type { Config } from './config-schema.js';

/**
 * The delivery presets of this server: the defaults, with configured presets added or
 * replacing a default of the same name — validated at start-up, as is every model's choice.
 */
export function resolvePresets(config: Config): { all: readonly DeliveryPreset[]; forModel(model: ModelConfig): DeliveryPreset } {
  const byName = new Map(DEFAULT_PRESETS.map((p) => [p.name, p]));
  if (config.presets.length > 0) for (const preset of validatePresets(config.presets)) byName.set(preset.name, preset);
  const pick = (name: string, field: string) => {
    const preset = byName.get(name);
    if (!preset) throw new AtelierError('config_invalid', `Invalid configuration: unknown delivery preset '${name}' for ${field} (known: ${[...byName.keys()].join(', ')})`, { field });
    return preset;
  };
  pick(config.media.defaultPreset, 'media.defaultPreset');
  for (const model of config.models) if (model.deliveryPreset) pick(model.deliveryPreset, `models.${model.name}.deliveryPreset`);
  return {
    all: [...byName.values()],
    forModel: (model) => pick(model.deliveryPreset ?? config.media.defaultPreset, 'deliveryPreset'),
  };
}
