import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('loadConfig', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-config-');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  const writeConfig = (content: unknown, name = 'atelier.config.json') =>
    writeFile(join(tmp.dir, name), typeof content === 'string' ? content : JSON.stringify(content));

  /** The AtelierError loadConfig throws (fails the test if it does not throw one). */
  function configError(env: NodeJS.ProcessEnv): AtelierError {
    try {
      loadConfig(env, tmp.dir);
    } catch (error) {
      expect(error).toBeInstanceOf(AtelierError);
      expect((error as AtelierError).code).toBe('config_invalid');
      return error as AtelierError;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  }

  it('resolves a ComfyUI backend\'s workflow files against the configuration file\'s folder, not the working directory', async () => {
    const configDir = join(tmp.dir, 'conf');
    await mkdir(configDir);
    await writeFile(
      join(configDir, 'atelier.json'),
      JSON.stringify({
        backends: { comfy: { type: 'comfyui', urls: ['http://127.0.0.1:8188'], headers: { Authorization: 'Bearer k' }, workflows: { t2i: { graph: 'flows/sdxl.api.json', bindings: '/abs/sdxl.bindings.json' } } } },
        models: [{ name: 'sdxl', backend: 'comfy', label: 'SDXL', modes: ['t2i'], baseResolution: 1024, defaultSteps: 30, defaultCfgScale: 7, defaultSampler: 'Euler' }],
      }),
    );
    const config = loadConfig({ ATELIER_CONFIG: 'conf/atelier.json' }, tmp.dir);
    const comfy = config.backends.comfy;
    expect(comfy?.type === 'comfyui' && comfy.workflows?.t2i).toEqual({ graph: join(configDir, 'flows/sdxl.api.json'), bindings: '/abs/sdxl.bindings.json' });
    expect(comfy?.type === 'comfyui' && comfy.headers).toEqual({ Authorization: 'Bearer k' });
  });

  it('refuses a ComfyUI header whose name is not an HTTP token', async () => {
    await writeConfig({
      backends: { comfy: { type: 'comfyui', urls: ['http://127.0.0.1:8188'], headers: { 'Bad Header': 'x' } } },
      models: [{ name: 'sd', backend: 'comfy', label: 'SD', modes: ['t2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' }],
    });
    const error = configError({});
    expect(error.message, error.message).toMatch(/Bad Header|headers/);
  });

  describe('defaults', () => {
    it('applies every default with no file and no environment', () => {
      const config = loadConfig({}, tmp.dir);
      expect(config).toMatchObject({
        host: '127.0.0.1',
        port: 8787,
        dataDir: './data',
        logLevel: 'info',
        bodyLimitBytes: 1_048_576,
        syncTimeoutSeconds: 300,
        runner: { concurrency: 1, leaseSeconds: 30, maxAttempts: 3, backoffBaseMs: 2000, backoffMaxMs: 60_000 },
        media: { workspaceTtlHours: 24, workspaceUrlTtlSeconds: 3600, libraryUrlTtlSeconds: 172_800, defaultPreset: 'stable-diffusion' },
        uploads: { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000, urlTtlSeconds: 900 },
        backends: { builtin: { type: 'builtin' } },
      });
      expect(config.models.map((m) => [m.name, m.modes])).toEqual([
        ['preview', ['t2i', 'i2i']],
        ['preview-t2v', ['t2v']],
        ['preview-i2v', ['i2v']],
        ['preview-ti2v', ['ti2v']],
      ]);
      expect(config.models[0]).toMatchObject({ name: 'preview', backend: 'builtin', default: true });
      expect(config.adminToken).toBeUndefined();
      expect(config.databaseUrl).toBeUndefined();
      expect(config.signingSecret).toBeUndefined();
    });

    it('does not share default objects between calls', () => {
      const a = loadConfig({}, tmp.dir);
      a.runner.concurrency = 9;
      a.models[0]!.label = 'changed';
      const b = loadConfig({}, tmp.dir);
      expect(b.runner.concurrency).toBe(1);
      expect(b.models[0]!.label).not.toBe('changed');
    });

    it('fills in defaults next to a partial runner section from the file', async () => {
      await writeConfig({ runner: { concurrency: 4 } });
      const config = loadConfig({}, tmp.dir);
      expect(config.runner).toEqual({ concurrency: 4, leaseSeconds: 30, maxAttempts: 3, backoffBaseMs: 2000, backoffMaxMs: 60_000 });
    });
  });

  describe('environment variables', () => {
    it('override defaults, coerced to the right types', () => {
      const config = loadConfig(
        {
          HOST: '0.0.0.0',
          PORT: '9001',
          DATA_DIR: '/srv/atelier',
          ATELIER_ADMIN_TOKEN: 'a'.repeat(32),
          LOG_LEVEL: 'warn',
          RUNNER_CONCURRENCY: '3',
          LEASE_SECONDS: '0.5',
          MAX_ATTEMPTS: '7',
          BACKOFF_BASE_MS: '50',
          BACKOFF_MAX_MS: '400',
          WORKSPACE_TTL_HOURS: '1.5',
          WORKSPACE_URL_TTL_SECONDS: '120',
          SYNC_TIMEOUT_SECONDS: '10',
          BODY_LIMIT_BYTES: '4096',
          DATABASE_URL: 'sqlite:/tmp/x.db',
          MEDIA_DIR: '/srv/media',
          PUBLIC_URL: 'https://atelier.example.com',
        },
        tmp.dir,
      );
      expect(config).toMatchObject({
        host: '0.0.0.0',
        port: 9001,
        dataDir: '/srv/atelier',
        adminToken: 'a'.repeat(32),
        logLevel: 'warn',
        bodyLimitBytes: 4096,
        syncTimeoutSeconds: 10,
        databaseUrl: 'sqlite:/tmp/x.db',
        mediaDir: '/srv/media',
        publicUrl: 'https://atelier.example.com',
        runner: { concurrency: 3, leaseSeconds: 0.5, maxAttempts: 7, backoffBaseMs: 50, backoffMaxMs: 400 },
        media: { workspaceTtlHours: 1.5, workspaceUrlTtlSeconds: 120 },
      });
      expect(typeof config.port).toBe('number');
    });

    it('take the webhook retry delay and poll interval from WEBHOOK_RETRY_DELAY_SECONDS and WEBHOOK_POLL_SECONDS, 1–3600 s', () => {
      expect(loadConfig({}, tmp.dir).webhooks).toMatchObject({ retryDelaySeconds: 5, pollSeconds: 15 });
      expect(loadConfig({ WEBHOOK_RETRY_DELAY_SECONDS: '1.5', WEBHOOK_POLL_SECONDS: '2' }, tmp.dir).webhooks).toMatchObject({ retryDelaySeconds: 1.5, pollSeconds: 2 });
      for (const [name, field] of [['WEBHOOK_RETRY_DELAY_SECONDS', 'webhooks.retryDelaySeconds'], ['WEBHOOK_POLL_SECONDS', 'webhooks.pollSeconds']] as const) {
        for (const value of ['0.5', '3601', 'soon']) {
          const error = configError({ [name]: value });
          expect(error.field).toBe(field);
          expect(error.message).toContain(name);
        }
      }
    });

    it('take how long a checked worker token is trusted from WORKER_TOKEN_CACHE_SECONDS, 1–300 s', () => {
      expect(loadConfig({}, tmp.dir).workerTokenCacheSeconds).toBe(5);
      expect(loadConfig({ WORKER_TOKEN_CACHE_SECONDS: '1' }, tmp.dir).workerTokenCacheSeconds).toBe(1);
      for (const value of ['0', '301']) expect(configError({ WORKER_TOKEN_CACHE_SECONDS: value }).message).toContain('WORKER_TOKEN_CACHE_SECONDS');
    });

    it('ignores empty environment variables', () => {
      const config = loadConfig({ PORT: '', HOST: '', RUNNER_CONCURRENCY: '' }, tmp.dir);
      expect(config.port).toBe(8787);
      expect(config.host).toBe('127.0.0.1');
      expect(config.runner.concurrency).toBe(1);
    });

    it('ignores variables it does not know', () => {
      expect(loadConfig({ ATELIER_UNKNOWN: 'x', PATH: '/bin' }, tmp.dir).port).toBe(8787);
    });
  });

  describe('file and environment together', () => {
    it('reads atelier.config.json from the working directory', async () => {
      await writeConfig({ port: 1234, host: '::1', runner: { concurrency: 2, maxAttempts: 9 }, media: { workspaceTtlHours: 2 } });
      const config = loadConfig({}, tmp.dir);
      expect(config).toMatchObject({ port: 1234, host: '::1', runner: { concurrency: 2, maxAttempts: 9 }, media: { workspaceTtlHours: 2 } });
    });

    it('lets the environment win over the file, key by key', async () => {
      await writeConfig({ port: 1234, host: '::1', runner: { concurrency: 2, maxAttempts: 9 } });
      const config = loadConfig({ PORT: '4321', RUNNER_CONCURRENCY: '5' }, tmp.dir);
      expect(config.port).toBe(4321);
      expect(config.host).toBe('::1');
      expect(config.runner.concurrency).toBe(5);
      // A nested key from the file survives an env override of its sibling.
      expect(config.runner.maxAttempts).toBe(9);
    });

    it('accepts a valid value from the environment over an invalid one in the file', async () => {
      await writeConfig({ port: 'not a port' });
      expect(loadConfig({ PORT: '1000' }, tmp.dir).port).toBe(1000);
    });

    it('reads the file named by ATELIER_CONFIG, relative to the working directory', async () => {
      await writeConfig({ port: 1111 });
      await writeConfig({ port: 2222 }, 'other.json');
      expect(loadConfig({ ATELIER_CONFIG: 'other.json' }, tmp.dir).port).toBe(2222);
      expect(loadConfig({ ATELIER_CONFIG: join(tmp.dir, 'other.json') }, '/').port).toBe(2222);
    });

    it('accepts models on a configured backend', async () => {
      const model = { name: 'sd-like', backend: 'local', label: 'Local', modes: ['t2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' };
      await writeConfig({ backends: { local: { type: 'builtin' } }, models: [model] });
      const config = loadConfig({}, tmp.dir);
      expect(config.models).toEqual([model]);
      expect(config.backends).toEqual({ local: { type: 'builtin' } });
    });
  });

  describe('errors name the key and where it came from', () => {
    it('PORT=abc names port and PORT', () => {
      const error = configError({ PORT: 'abc' });
      expect(error.field).toBe('port');
      expect(error.message).toContain('port');
      expect(error.message).toContain('PORT');
      expect(error.message).toContain("'abc'");
    });

    it('RUNNER_CONCURRENCY=-1 names runner.concurrency and RUNNER_CONCURRENCY', () => {
      const error = configError({ RUNNER_CONCURRENCY: '-1' });
      expect(error.field).toBe('runner.concurrency');
      expect(error.message).toContain('runner.concurrency');
      expect(error.message).toContain('RUNNER_CONCURRENCY');
    });

    it('out-of-range values from the environment are rejected', () => {
      expect(configError({ PORT: '70000' }).field).toBe('port');
      expect(configError({ LEASE_SECONDS: '0.1' }).message).toContain('LEASE_SECONDS');
      expect(configError({ MAX_ATTEMPTS: '0' }).message).toContain('runner.maxAttempts');
      expect(configError({ MAX_ATTEMPTS: '2.5' }).message).toContain('MAX_ATTEMPTS');
      expect(configError({ ATELIER_ADMIN_TOKEN: 'short' }).message).toContain('ATELIER_ADMIN_TOKEN');
      expect(configError({ PUBLIC_URL: 'not a url' }).field).toBe('publicUrl');
    });

    it('says what was expected (type and range), not just that the value is bad', () => {
      // format-ajv-error.ts documents messages like "Expected integer 1–150 for steps but received 'many'".
      expect(configError({ PORT: 'abc' }).message).toMatch(/Expected integer 0–65535 for port but received 'abc'/);
      expect(configError({ RUNNER_CONCURRENCY: '-1' }).message).toMatch(/Expected integer 0–64 for runner\.concurrency/);
    });

    it('a bad LOG_LEVEL names logLevel and LOG_LEVEL', () => {
      const error = configError({ LOG_LEVEL: 'verbose' });
      expect(error.field).toBe('logLevel');
      expect(error.message).toContain('LOG_LEVEL');
      expect(error.message).toContain("'verbose'");
      expect(error.message).not.toMatch(/undefined/);
    });

    it('a bad LOG_LEVEL lists the accepted levels, not just the first one', () => {
      // logLevel is a union of literals; the message must not claim "fatal" is the only choice.
      const { message } = configError({ LOG_LEVEL: 'verbose' });
      for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(message).toContain(level);
    });

    it('a bad value in the file names the key and the file', async () => {
      await writeConfig({ runner: { concurrency: 100 } });
      const error = configError({});
      expect(error.field).toBe('runner.concurrency');
      expect(error.message).toContain(join(tmp.dir, 'atelier.config.json'));
      expect(error.message).not.toContain('RUNNER_CONCURRENCY');
    });

    it('rejects an unknown key in the file, naming it', async () => {
      await writeConfig({ prot: 1 });
      const error = configError({});
      expect(error.message).toContain("'prot'");
      expect(error.message).toContain('atelier.config.json');
      expect(error.field).toBe('prot');
    });

    it('rejects an unknown nested key, naming its full path', async () => {
      await writeConfig({ runner: { concurency: 2 } });
      expect(configError({}).message).toContain("'runner.concurency'");
    });

    it('rejects a file that is not valid JSON', async () => {
      await writeConfig('{ "port": 1234, ');
      const error = configError({});
      expect(error.message).toContain(join(tmp.dir, 'atelier.config.json'));
      expect(error.message).toMatch(/not valid/);
    });

    it('rejects a file whose JSON is not an object', async () => {
      await writeConfig('[1, 2]');
      expect(configError({}).message).toMatch(/Expected a JSON object/);
      await writeConfig('null');
      expect(configError({}).message).toMatch(/Expected a JSON object/);
    });

    it('rejects a model that names an unknown backend', async () => {
      await writeConfig({
        models: [{ name: 'ghost', backend: 'comfy', label: 'Ghost', modes: ['t2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' }],
      });
      const error = configError({});
      expect(error.field).toBe('models');
      expect(error.message).toContain("'ghost'");
      expect(error.message).toContain("'comfy'");
    });

    it('rejects an unknown backend type and an empty model list', async () => {
      await writeConfig({ backends: { x: { type: 'comfyui' } } });
      expect(configError({}).field).toMatch(/^backends\.x/);
      await writeConfig({ models: [] });
      expect(configError({}).field).toBe('models');
    });

    it('rejects ATELIER_CONFIG naming a missing file', () => {
      const error = configError({ ATELIER_CONFIG: 'missing.json' });
      expect(error.message).toContain(join(tmp.dir, 'missing.json'));
      expect(error.message).toMatch(/does not exist/);
    });

    it('treats an empty ATELIER_CONFIG like an unset one, as with every other variable', () => {
      // No atelier.config.json in the working directory: defaults apply.
      expect(loadConfig({ ATELIER_CONFIG: '' }, tmp.dir).port).toBe(8787);
    });
  });
});
