import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('loadConfig: cors and aliases', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-config-');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  const writeConfig = (content: unknown) => writeFile(join(tmp.dir, 'atelier.config.json'), JSON.stringify(content));
  const load = (env: NodeJS.ProcessEnv = {}) => loadConfig(env, tmp.dir);

  function configError(env: NodeJS.ProcessEnv = {}): AtelierError {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(AtelierError);
      expect((error as AtelierError).code).toBe('config_invalid');
      return error as AtelierError;
    }
    throw new Error('loadConfig accepted the configuration');
  }

  it('has no CORS origins and no aliases by default', () => {
    const config = load();
    expect(config.cors).toEqual({ origins: [], maxAgeSeconds: 600 });
    expect(config.aliases).toEqual({});
  });

  it('reads CORS_ORIGINS as a comma list, trimmed, empty items dropped, over the file', async () => {
    await writeConfig({ cors: { origins: ['https://file.example'], maxAgeSeconds: 60 } });
    expect(load().cors).toEqual({ origins: ['https://file.example'], maxAgeSeconds: 60 });
    expect(load({ CORS_ORIGINS: ' https://a.example, http://localhost:5173 ,,' }).cors.origins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(load({ CORS_ORIGINS: '*' }).cors.origins).toEqual(['*']);
  });

  it('refuses an origin a browser would never send, naming the variable and the fix', async () => {
    const trailing = configError({ CORS_ORIGINS: 'https://a.example,http://localhost:5173/' });
    expect(trailing.message).toContain('environment variable CORS_ORIGINS');
    expect(trailing.message).toContain("received 'http://localhost:5173/' (did you mean 'http://localhost:5173'?)");
    expect(trailing.field).toBe('cors.origins');
    expect(configError({ CORS_ORIGINS: 'HTTPS://App.Example' }).message).toContain("did you mean 'https://app.example'?");
    expect(configError({ CORS_ORIGINS: 'https://a.example:443' }).message).toContain("did you mean 'https://a.example'?");
    expect(configError({ CORS_ORIGINS: 'app.example' }).message).toContain("received 'app.example'");
    await writeConfig({ cors: { origins: ['ftp://files.example'] } });
    expect(configError().message).toMatch(/atelier\.config\.json\): Expected an origin scheme:\/\/host\[:port\] or '\*' for cors.origins but received 'ftp:\/\/files.example'$/);
  });

  it('accepts aliases that name configured models', async () => {
    await writeConfig({ aliases: { 'dall-e-3': 'preview', 'gpt-image-1': 'preview' } });
    expect(load().aliases).toEqual({ 'dall-e-3': 'preview', 'gpt-image-1': 'preview' });
  });

  it('refuses an alias of an unknown model, listing the models', async () => {
    await writeConfig({ aliases: { 'dall-e-3': 'sdxl' } });
    const error = configError();
    expect(error.message).toContain("alias 'dall-e-3' names unknown model 'sdxl'. Models: preview, preview-t2v");
    expect(error.field).toBe('aliases.dall-e-3');
  });

  it('refuses an alias that hides a model of the same name', async () => {
    await writeConfig({ aliases: { preview: 'preview-t2v' } });
    expect(configError().message).toContain("alias 'preview' is also the name of a model");
  });

  it('refuses an alias that is not a string', async () => {
    await writeConfig({ aliases: { 'dall-e-3': 3 } });
    expect(configError().field).toBe('aliases.dall-e-3');
  });
});
