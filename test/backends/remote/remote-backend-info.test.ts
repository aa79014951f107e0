import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackends } from '../../../src/backends/create-backends.js';
import { AtelierError } from '../../../src/errors/atelier-error.js';
import { loadConfig } from '../../../src/main/load-config.js';
import { laneFor, LOCAL_LANE, remoteLane } from '../../../src/queue/lanes.js';
import { REMOTE_DEFAULT_CAPABILITIES } from '../../../src/backends/remote/remote-backend-info.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const model = (backend: string, modes: string[]) => ({ name: 'm', backend, label: 'M', modes, baseResolution: 1024, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' });

describe('remote backends in configuration', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-remote-config-');
  });
  afterEach(async () => {
    await tmp.remove();
  });
  const load = async (config: unknown) => {
    await writeFile(join(tmp.dir, 'atelier.config.json'), JSON.stringify(config));
    return loadConfig({}, tmp.dir);
  };

  it('declares capabilities from configuration, with SDXL-class defaults, and never renders in-process', async () => {
    const config = await load({ backends: { gpu: { type: 'remote', label: 'Studio GPU', modes: ['t2i', 't2v'], maxBatch: 2, samplers: ['DPM++ 2M Karras'] }, plain: { type: 'remote' } }, models: [model('gpu', ['t2i', 't2v'])] });
    const { backends, runnable } = createBackends(config);
    const gpu = backends.get('gpu')!;
    expect(gpu).toMatchObject({ kind: 'remote', label: 'Studio GPU' });
    expect(gpu.capabilities).toMatchObject({ modes: ['t2i', 't2v'], samplers: ['DPM++ 2M Karras'], maxBatch: 2, maxWidth: 2048, preview: true });
    expect(backends.get('plain')!.capabilities).toEqual(REMOTE_DEFAULT_CAPABILITIES);
    expect(backends.get('plain')!.label).toBe('Remote workers (plain)');
    // Capability data only: nothing in this process can run it.
    expect('generate' in gpu).toBe(false);
    expect(runnable.has('gpu')).toBe(false);
    expect(runnable.has('plain')).toBe(false);
  });

  it('refuses a model whose modes its remote backend does not declare, and unknown keys', async () => {
    const config = await load({ backends: { gpu: { type: 'remote', modes: ['t2i'] } }, models: [model('gpu', ['t2i', 'i2v'])] });
    expect(() => createBackends(config)).toThrow(AtelierError);
    await expect(load({ backends: { gpu: { type: 'remote', gpus: 2 } }, models: [model('gpu', ['t2i'])] })).rejects.toThrow(/backends\.gpu|gpus/);
  });

  it('routes remote backends to their own lane and everything else to local', () => {
    expect(laneFor('gpu', 'remote')).toBe(remoteLane('gpu'));
    expect(remoteLane('gpu')).toBe('remote:gpu');
    expect(laneFor('builtin', 'builtin')).toBe(LOCAL_LANE);
    expect(laneFor('comfy', 'comfyui')).toBe('local');
    expect(laneFor('extra', undefined)).toBe('local');
  });
});
