import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ModelConfig } from '../backends/model-registry.js';
import { AtelierError } from '../errors/atelier-error.js';
import { DEFAULT_PRESETS, validatePresets, type DeliveryPreset } from '../media/image/presets.js';
import { canRenderText, watermarkLayer } from '../media/image/watermark.js';
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

/**
 * The start-up checks that need to draw, so a mark that cannot be drawn stops the server now
 * rather than failing (or drawing boxes) on the first image, hours later: a text watermark
 * needs a font, which fontconfig must find on this machine — without one every letter comes
 * out as the same empty box — and a watermark image must decode. Each mark is drawn once here,
 * which also caches it for the images to come.
 *
 * @throws AtelierError `config_invalid` naming the preset's field, and for text what to install.
 * @example await checkWatermarks(resolvePresets(config).all)
 */
export async function checkWatermarks(presets: readonly DeliveryPreset[]): Promise<void> {
  let fonts: Promise<boolean> | undefined;
  for (const preset of presets) {
    const mark = preset.watermark;
    if (mark === undefined) continue;
    const field = `presets.${preset.name}.watermark.${mark.image === undefined ? 'text' : 'image'}`;
    if (mark.text !== undefined) {
      fonts ??= canRenderText();
      if (!(await fonts)) {
        throw new AtelierError(
          'config_invalid',
          `Invalid configuration: ${field} is drawn in a font, but fontconfig finds none on this machine. Install one (Debian/Ubuntu: apt-get install fonts-dejavu-core; Alpine: apk add font-dejavu) or use a watermark image`,
          { field },
        );
      }
    }
    try {
      await watermarkLayer(mark, { width: 256, height: 256 });
    } catch (error) {
      const what = mark.image === undefined ? 'cannot be drawn' : `names '${mark.image}', which cannot be read as an image`;
      throw new AtelierError('config_invalid', `Invalid configuration: ${field} ${what}: ${error instanceof Error ? error.message : String(error)}`, { field });
    }
  }
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
