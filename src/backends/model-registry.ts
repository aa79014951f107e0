import { AtelierError } from '../errors/atelier-error.js';
import type { BackendSettings } from '../jobs/backend-settings.js';
import type { ModelPricing } from '../jobs/cost.js';
import type { Mode } from '../jobs/job-spec.js';

/** One model as configuration declares it: which backend runs it and with what defaults. */
export interface ModelConfig {
  readonly name: string;
  /** Name of a configured backend instance. */
  readonly backend: string;
  readonly label: string;
  readonly modes: readonly Mode[];
  /** Side of the square the model was trained at; aspect ratios map to about this many pixels. */
  readonly baseResolution: number;
  readonly defaultSteps: number;
  readonly defaultCfgScale: number;
  readonly defaultSampler: string;
  /** Used when a request gives neither a size nor an aspect ratio (e.g. '16:9' for video). */
  readonly defaultAspectRatio?: string;
  /** Video models: defaults and the frame limit. */
  readonly defaultFps?: number;
  readonly defaultFrames?: number;
  readonly maxFrames?: number;
  /** Prices for cost estimates; unset fields take DEFAULT_PRICING. */
  readonly pricing?: Partial<ModelPricing>;
  /** Delivery preset of the model's images (SPEC §4). */
  readonly deliveryPreset?: string;
  /** This model's own output safety policy and/or threshold; the server's `safety` otherwise. */
  readonly safety?: { readonly policy?: 'off' | 'flag' | 'blur' | 'block'; readonly threshold?: number };
  /** LoRA names a request may apply (in the backend's terms); absent: none. */
  readonly loras?: readonly string[];
  /** What the backend loads for this model: checkpoint, VAE, default LoRAs, clip skip. */
  readonly backendSettings?: BackendSettings;
  readonly default?: boolean;
}

/**
 * The models a server offers, looked up by name. Unknown names are a 422 that lists the
 * available ones, so a client can recover without reading docs.
 */
export class ModelRegistry {
  private readonly byName: ReadonlyMap<string, ModelConfig>;
  readonly defaultModel: ModelConfig;

  constructor(models: readonly ModelConfig[]) {
    if (models.length === 0) throw new AtelierError('config_invalid', 'Expected at least one model in models');
    this.byName = new Map(models.map((m) => [m.name, m]));
    this.defaultModel = models.find((m) => m.default) ?? models[0]!;
  }

  list(): readonly ModelConfig[] {
    return [...this.byName.values()];
  }

  /**
   * The default model for a request in one of `modes`: the default model when it has one of
   * them, else the first configured model that does (so a text-to-video request without
   * `model` goes to a video model, not to the image default). Without a match, the default
   * model, which then refuses the mode by name.
   */
  defaultFor(modes: readonly Mode[]): ModelConfig {
    const serves = (model: ModelConfig) => model.modes.some((mode) => modes.includes(mode));
    if (serves(this.defaultModel)) return this.defaultModel;
    return [...this.byName.values()].find(serves) ?? this.defaultModel;
  }

  /** The named model, or the default (for `modes`, when given: see `defaultFor`) when `name` is undefined. */
  resolve(name: string | undefined, field = 'model', modes?: readonly Mode[]): ModelConfig {
    if (name === undefined) return modes ? this.defaultFor(modes) : this.defaultModel;
    const model = this.byName.get(name);
    if (!model) {
      const available = [...this.byName.keys()];
      throw new AtelierError(
        'unknown_model',
        `Unknown model '${name}'. Available models: ${available.join(', ')}`,
        { field, details: { available } },
      );
    }
    return model;
  }
}
