import { AtelierError } from '../../../errors/atelier-error.js';
import type { AppDeps } from '../../app-deps.js';

/**
 * The registry name an OpenAI request's `model` means: an alias from the configuration
 * (`{"dall-e-3": "sdxl"}`) or a model's own name; undefined (the default model) when absent.
 * An unknown name is a 422 `unknown_model` listing both.
 *
 * @example modelName(deps, 'dall-e-3') // 'sdxl' with the alias above
 */
export function modelName(deps: Pick<AppDeps, 'config' | 'registry'>, requested: string | undefined, field = 'model'): string | undefined {
  if (requested === undefined) return undefined;
  const aliases = deps.config.aliases;
  // Own keys only: 'constructor' or '__proto__' are not aliases.
  if (Object.hasOwn(aliases, requested)) return aliases[requested];
  const models = deps.registry.list().map((model) => model.name);
  if (models.includes(requested)) return requested;
  const names = Object.keys(aliases);
  const listed = `Available models: ${models.join(', ')}${names.length > 0 ? `; aliases: ${names.join(', ')}` : ''}`;
  throw new AtelierError('unknown_model', `Unknown model '${requested}'. ${listed}`, { field, details: { available: [...models, ...names] } });
}
