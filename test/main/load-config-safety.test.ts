import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { defaultModels } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('loadConfig: safety', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-config-');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  const writeConfig = (content: unknown) => writeFile(join(tmp.dir, 'atelier.config.json'), JSON.stringify(content));
  const load = (env: NodeJS.ProcessEnv = {}) => loadConfig(env, tmp.dir);
  function configError(env: NodeJS.ProcessEnv = {}): string {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(AtelierError);
      return (error as AtelierError).message;
    }
    throw new Error('loadConfig accepted the configuration');
  }

  it('defaults to flag at threshold 0.7 with the built-in model', () => {
    expect(load().safety).toEqual({ policy: 'flag', threshold: 0.7 });
  });

  it('takes the file and lets the environment win', async () => {
    await writeConfig({ safety: { policy: 'blur', threshold: 0.5, url: 'http://127.0.0.1:9000/check' } });
    expect(load().safety).toEqual({ policy: 'blur', threshold: 0.5, url: 'http://127.0.0.1:9000/check' });
    expect(load({ SAFETY_POLICY: 'block', SAFETY_THRESHOLD: '0', SAFETY_TIMEOUT_MS: '2500' }).safety).toEqual({ policy: 'block', threshold: 0, url: 'http://127.0.0.1:9000/check', timeoutMs: 2500 });
  });

  it('refuses a policy, threshold or URL out of range, naming the key', () => {
    expect(configError({ SAFETY_POLICY: 'nope' })).toMatch(/SAFETY_POLICY.*Expected one of "off", "flag", "blur", "block" for safety.policy but received 'nope'/);
    expect(configError({ SAFETY_THRESHOLD: '1.5' })).toMatch(/Expected number 0–1 for safety.threshold but received 1.5/);
    expect(configError({ SAFETY_URL: 'not a url' })).toMatch(/safety.url/);
  });

  it("accepts a model's own policy or threshold and refuses an unknown field in it", async () => {
    const models = defaultModels();
    models[0]!.safety = { policy: 'off' };
    await writeConfig({ models });
    expect(load().models[0]!.safety).toEqual({ policy: 'off' });
    models[0]!.safety = { policy: 'flag', level: 3 };
    await writeConfig({ models });
    expect(configError()).toMatch(/level/);
  });
});
