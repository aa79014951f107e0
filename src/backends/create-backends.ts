import { AtelierError } from '../errors/atelier-error.js';
import type { Config } from '../main/config-schema.js';
import type { Backend } from './backend.js';
import { createBuiltinBackend } from './builtin/builtin-backend.js';
import { ModelRegistry } from './model-registry.js';
import { createRemoteBackend } from '../worker/remote-backend.js';
import { createNetworkBackend } from './create-network-backend.js';

/**
 * Instantiates the configured backends and the model registry, refusing a model that asks a
 * backend for a mode it does not have — at start-up, not on the first request.
 */
export function createBackends(
  config: Config,
  extra: ReadonlyMap<string, Backend> = new Map(),
): { backends: ReadonlyMap<string, Backend>; registry: ModelRegistry } {
  const backends = new Map<string, Backend>(extra);
  for (const [name, settings] of Object.entries(config.backends)) {
    switch (settings.type) {
      case 'builtin':
        backends.set(name, createBuiltinBackend());
        break;
      case 'remote':
        backends.set(name, createRemoteBackend(name, settings));
        break;
      case 'comfyui':
      case 'a1111':
      case 'openai':
        backends.set(name, createNetworkBackend(name, settings));
        break;
    }
  }
  for (const model of config.models) {
    const backend = backends.get(model.backend);
    const missing = model.modes.filter((m) => !backend?.capabilities.modes.includes(m));
    if (!backend || missing.length > 0) {
      throw new AtelierError('config_invalid', `Invalid configuration: model '${model.name}' declares modes ${missing.join(', ')} that backend '${model.backend}' does not support`, { field: 'models' });
    }
  }
  return { backends, registry: new ModelRegistry(config.models) };
}
