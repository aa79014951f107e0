import { AtelierError } from '../errors/atelier-error.js';
import type { Config } from '../main/config-schema.js';
import type { Backend, BackendInfo } from './backend.js';
import { createBuiltinBackend } from './builtin/builtin-backend.js';
import { ModelRegistry } from './model-registry.js';
import { remoteBackendInfo } from './remote/remote-backend-info.js';
import { createNetworkBackend } from './create-network-backend.js';

export interface ConfiguredBackends {
  /** Every configured backend by name, remote ones included: what validation and the API see. */
  readonly backends: ReadonlyMap<string, BackendInfo>;
  /** The backends this process runs itself (everything but `remote`). */
  readonly runnable: ReadonlyMap<string, Backend>;
  readonly registry: ModelRegistry;
}

/**
 * Instantiates the configured backends and the model registry, refusing a model that asks a
 * backend for a mode it does not have — at start-up, not on the first request.
 */
export function createBackends(config: Config, extra: ReadonlyMap<string, Backend> = new Map()): ConfiguredBackends {
  const runnable = new Map<string, Backend>(extra);
  const backends = new Map<string, BackendInfo>(extra);
  for (const [name, settings] of Object.entries(config.backends)) {
    switch (settings.type) {
      case 'builtin':
        runnable.set(name, createBuiltinBackend());
        break;
      case 'remote':
        backends.set(name, remoteBackendInfo(name, settings));
        break;
      case 'comfyui':
      case 'a1111':
      case 'openai':
        runnable.set(name, createNetworkBackend(name, settings));
        break;
    }
    const made = runnable.get(name);
    if (made) backends.set(name, made);
  }
  for (const model of config.models) {
    const backend = backends.get(model.backend);
    const missing = model.modes.filter((m) => !backend?.capabilities.modes.includes(m));
    if (!backend || missing.length > 0) {
      throw new AtelierError('config_invalid', `Invalid configuration: model '${model.name}' declares modes ${missing.join(', ')} that backend '${model.backend}' does not support`, { field: 'models' });
    }
  }
  return { backends, runnable, registry: new ModelRegistry(config.models) };
}
