import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let tmp: { dir: string; remove: () => Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir('atelier-config-');
});
afterEach(async () => {
  await tmp.remove();
});

const writeConfig = (content: unknown) => writeFile(join(tmp.dir, 'atelier.config.json'), JSON.stringify(content));

/** The config_invalid AtelierError loadConfig throws. */
function configError(env: NodeJS.ProcessEnv): AtelierError {
  try {
    loadConfig(env, tmp.dir);
  } catch (error) {
    expect(error).toBeInstanceOf(AtelierError);
    expect((error as AtelierError).code).toBe('config_invalid');
    return error as AtelierError;
  }
  throw new Error('loadConfig accepted the configuration');
}

describe('loadConfig: model LoRAs and backend settings', () => {
  const model = (backend: string, extra: Record<string, unknown>) => ({ name: 'm', backend, label: 'M', modes: ['t2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler', ...extra });
  const backends = {
    local: { type: 'builtin' },
    comfy: { type: 'comfyui', urls: ['http://127.0.0.1:8188'] },
    oai: { type: 'openai', urls: ['https://api.openai.com/v1'], model: 'gpt-image-1' },
  };

  it('accepts allowed LoRA names and backend settings on a ComfyUI model', async () => {
    const settings = { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', loras: [{ name: 'style.safetensors', weight: 0.8 }], clipSkip: 2 };
    await writeConfig({ backends, models: [model('comfy', { loras: ['detail.safetensors'], backendSettings: settings })] });
    expect(loadConfig({}, tmp.dir).models[0]).toMatchObject({ loras: ['detail.safetensors'], backendSettings: settings });
  });

  it.each([
    ['oai', { loras: ['detail'] }, "model 'm' sets loras, which its openai backend cannot apply"],
    ['local', { backendSettings: { checkpoint: 'x.safetensors', clipSkip: 2 } }, "model 'm' sets backendSettings.checkpoint, backendSettings.clipSkip, which its builtin backend cannot apply"],
    ['comfy', { backendSettings: { loras: [{ name: 'a', weight: 1 }, { name: 'a', weight: 0.5 }] } }, "model 'm' names LoRA 'a' twice in backendSettings.loras"],
  ])('refuses what the %s backend cannot apply: %j', async (backend, extra, message) => {
    await writeConfig({ backends, models: [model(backend, extra)] });
    expect(configError({}).message).toContain(message);
  });

  it('refuses LoRA names that would break an A1111 tag, and clip skip outside 1–12', async () => {
    await writeConfig({ backends, models: [model('comfy', { loras: ['a:b'] })] });
    expect(configError({}).field).toBe('models[0].loras[0]');
    await writeConfig({ backends, models: [model('comfy', { backendSettings: { clipSkip: 0 } })] });
    expect(configError({}).field).toBe('models[0].backendSettings.clipSkip');
  });
});
