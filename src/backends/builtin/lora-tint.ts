import type { Lora } from '../../jobs/loras.js';
import { hashUnits } from './prng.js';
import { hslToRgb } from './prompt-palette.js';
import type { Latent } from './target-field.js';

/** The share of the target a weight-1 LoRA moves toward its colour: visible, never dominant. */
export const LORA_TINT_GAIN = 0.08;
/** However many LoRAs and whatever their weights, the prompt keeps most of the picture. */
const MAX_TINT = 0.4;

/**
 * The preview renderer's stand-in for LoRAs — it has no weights to patch: each LoRA pulls the
 * target field a little toward a colour of its own, derived from its name (sha256), by
 * |weight| × {@link LORA_TINT_GAIN}; a negative weight pulls toward the opposite colour. The
 * same LoRAs always tint alike; none (or all at weight 0) leaves the target untouched, so
 * jobs without LoRAs render byte for byte as before.
 *
 * @example const tinted = tintForLoras([{ name: 'film-grain', weight: 0.8 }])(target)
 */
export function tintForLoras(loras: readonly Lora[]): (target: Latent) => Latent {
  const tints = loras
    .filter((lora) => lora.weight !== 0)
    .map((lora) => {
      const [h, s, l] = hashUnits(`lora:${lora.name}`);
      const rgb = hslToRgb({ h: h * 360, s: 0.5 + s * 0.4, l: 0.35 + l * 0.3 }).map((c) => c * 2 - 1);
      const sign = Math.sign(lora.weight);
      return { colour: rgb.map((c) => c * sign), amount: Math.min(MAX_TINT, Math.abs(lora.weight) * LORA_TINT_GAIN) };
    });
  if (tints.length === 0) return (target) => target;
  return (target) => {
    const data = Float32Array.from(target.data);
    for (const { colour, amount } of tints) {
      for (let i = 0; i < data.length; i += 1) data[i] = data[i]! + (colour[i % 3]! - data[i]!) * amount;
    }
    return { width: target.width, height: target.height, data };
  };
}
