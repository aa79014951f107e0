import type { Static } from 'typebox';
import { ROUTING_DEFAULTS, type A1111BackendSchema, type ComfyUIBackendSchema, type OpenAIBackendSchema } from '../main/backend-config-schema.js';
import type { Backend } from './backend.js';
import { createA1111Backend } from './a1111/a1111-backend.js';
import { createComfyUIBackend } from './comfyui/comfyui-backend.js';
import { loadComfyWorkflows } from './comfyui/comfyui-config.js';
import { createOpenAIImagesBackend } from './openai/openai-images-backend.js';
import { createRoutedBackend } from './routing/routed-backend.js';

type NetworkBackendConfig = Static<typeof ComfyUIBackendSchema> | Static<typeof A1111BackendSchema> | Static<typeof OpenAIBackendSchema>;

/**
 * One configured ComfyUI / AUTOMATIC1111 / OpenAI-compatible backend: an adapter per URL,
 * behind the router that balances, fails over and enforces the time limits.
 */
export function createNetworkBackend(name: string, settings: NetworkBackendConfig, env: NodeJS.ProcessEnv = process.env): Backend {
  const config = { ...ROUTING_DEFAULTS, ...settings };
  // The router owns the job's time limit; the adapters' own is a backstop just beyond it.
  const timeouts = { connectMs: config.connectSeconds * 1000, generationMs: (config.generationSeconds + 5) * 1000 };
  const limits = {
    ...(config.maxWidth ? { maxWidth: config.maxWidth } : {}),
    ...(config.maxHeight ? { maxHeight: config.maxHeight } : {}),
    ...(config.maxSteps ? { maxSteps: config.maxSteps } : {}),
    ...(config.maxBatch ? { maxBatch: config.maxBatch } : {}),
  };
  // Workflow files are read once, at start-up, so a bad template fails the start, not a job.
  const workflows = config.type === 'comfyui' && config.workflows ? loadComfyWorkflows(config.workflows) : undefined;
  const instances = config.urls.map((url, i): Backend => {
    const label = `${config.label ?? name}${config.urls.length > 1 ? ` #${i + 1}` : ''}`;
    switch (config.type) {
      case 'comfyui':
        return createComfyUIBackend({
          url,
          label,
          timeouts,
          ...limits,
          ...(config.checkpoint ? { checkpoint: config.checkpoint } : {}),
          ...(workflows ? { workflows } : {}),
          ...(config.samplers ? { samplers: config.samplers } : {}),
          ...(config.headers ? { headers: config.headers } : {}),
        });
      case 'a1111':
        return createA1111Backend({
          url,
          label,
          timeouts,
          ...limits,
          ...(config.checkpoint ? { checkpoint: config.checkpoint } : {}),
          ...(config.samplers ? { samplers: config.samplers } : {}),
          ...(config.controlnetModels ? { controlnetModels: config.controlnetModels } : {}),
          ...(config.username && config.password ? { auth: { username: config.username, password: config.password } } : {}),
        });
      case 'openai': {
        const apiKey = config.apiKey ?? env.OPENAI_API_KEY;
        return createOpenAIImagesBackend({ url, label, model: config.model, timeouts, ...limits, ...(apiKey ? { apiKey } : {}), ...(config.sizes ? { sizes: config.sizes } : {}) });
      }
    }
  });
  return createRoutedBackend(instances, {
    perInstanceConcurrency: config.perInstanceConcurrency,
    healthIntervalMs: config.healthIntervalSeconds * 1000,
    breaker: { failureThreshold: config.failureThreshold, cooldownMs: config.cooldownSeconds * 1000 },
    timeouts: { warmupMs: config.warmupSeconds * 1000, generationMs: config.generationSeconds * 1000 },
  });
}
