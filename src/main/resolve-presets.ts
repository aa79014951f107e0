import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ModelConfig } from '../backends/model-registry.js';
import { AtelierError } from '../errors/atelier-error.js';
import { DEFAULT_PRESETS, validatePresets, type DeliveryPreset } from '../media/image/presets.js';
import type { Config } from './config-schema.js';

/**
 * The delivery presets of this server: the defaults, with configured presets added or
 * replacing a default of the same name — validated at start-up, as is every model's choice,
 * and every watermark image must be a file then (not at the first image, hours later).
 */
export function resolvePresets(config: Config): { all: readonly DeliveryPreset[]; forModel(model: ModelConfig): DeliveryPreset } {
  const byName = new Map(DEFAULT_PRESETS.map((p) => [p.name, p]));
  if (config.presets.length > 0) {
    for (const preset of validatePresets(config.presets)) {
      if (preset.watermark?.image !== undefined) checkWatermarkFile(preset.watermark.image, `presets.${preset.name}.watermark.image`);
      byName.set(preset.name, preset);
    }
  }
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

function checkWatermarkFile(file: string, field: string): void {
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    // Missing or unreadable: said below.
  }
  if (!isFile) throw new AtelierError('config_invalid', `Invalid configuration: ${field} names '${file}', which is not a file`, { field });
}

/**
 * Watermark images are named relative to the configuration file, like workflow files, so a
 * logo kept beside the file is found whatever directory the server starts from. Runs on the
 * raw entries, before {@link validatePresets}; anything malformed is left for it to refuse.
 */
export function resolvePresetPaths(config: Config, baseDir: string): void {
  for (const preset of config.presets as unknown[]) {
    const watermark = (preset as { watermark?: unknown }).watermark;
    if (typeof watermark !== 'object' || watermark === null) continue;
    const mark = watermark as { image?: unknown };
    if (typeof mark.image === 'string' && mark.image !== '' && !isAbsolute(mark.image)) mark.image = resolve(baseDir, mark.image);
  }
}
