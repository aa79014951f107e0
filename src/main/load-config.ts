import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AtelierError } from '../errors/atelier-error.js';
import { createAjv } from '../validation/create-ajv.js';
import { ajvErrorsToAtelierError } from '../validation/format-ajv-error.js';
import { BACKEND_SCHEMAS, ConfigSchema, type Config } from './config-schema.js';
import { resolvePresetPaths } from './resolve-presets.js';

/** Environment variable → config path. Documented in docs/configuration.md. */
export const ENV_KEYS: Record<string, string> = {
  HOST: 'host',
  PORT: 'port',
  DATA_DIR: 'dataDir',
  NODE_ID: 'nodeId',
  ATELIER_ADMIN_TOKEN: 'adminToken',
  DATABASE_URL: 'databaseUrl',
  MEDIA_DIR: 'mediaDir',
  STORAGE_URL: 'storageUrl',
  REDIS_URL: 'redisUrl',
  REDIS_PREFIX: 'redisPrefix',
  REDIS_CONNECT_TIMEOUT_SECONDS: 'redisConnectTimeoutSeconds',
  S3_REGION: 's3.region',
  S3_ENDPOINT: 's3.endpoint',
  S3_FORCE_PATH_STYLE: 's3.forcePathStyle',
  S3_ACCESS_KEY_ID: 's3.accessKeyId',
  S3_SECRET_ACCESS_KEY: 's3.secretAccessKey',
  PUBLIC_URL: 'publicUrl',
  ATELIER_SIGNING_SECRET: 'signingSecret',
  LOG_LEVEL: 'logLevel',
  BODY_LIMIT_BYTES: 'bodyLimitBytes',
  RUNNER_CONCURRENCY: 'runner.concurrency',
  LEASE_SECONDS: 'runner.leaseSeconds',
  MAX_ATTEMPTS: 'runner.maxAttempts',
  BACKOFF_BASE_MS: 'runner.backoffBaseMs',
  BACKOFF_MAX_MS: 'runner.backoffMaxMs',
  WORKER_TOKEN_CACHE_SECONDS: 'workerTokenCacheSeconds',
  WORKSPACE_TTL_HOURS: 'media.workspaceTtlHours',
  WORKSPACE_URL_TTL_SECONDS: 'media.workspaceUrlTtlSeconds',
  SYNC_TIMEOUT_SECONDS: 'syncTimeoutSeconds',
  CACHE_TTL_DAYS: 'cache.ttlDays',
  CACHE_SCOPE: 'cache.scope',
  CACHE_DEFAULT_MODE: 'cache.defaultMode',
  RATE_LIMIT_PER_HOUR: 'rateLimits.perHour',
  RATE_LIMIT_CONCURRENT: 'rateLimits.concurrent',
  RATE_LIMIT_EXEMPT_ADMINS: 'rateLimits.exemptAdmins',
  CLIP_MODEL_PATH: 'evaluation.clip.modelPath',
  CLIP_TOKENIZER_PATH: 'evaluation.clip.tokenizerPath',
  CLIP_EVALUATOR_URL: 'evaluation.clip.url',
  MODERATION_URL: 'moderation.external.url',
  SAFETY_POLICY: 'safety.policy',
  SAFETY_THRESHOLD: 'safety.threshold',
  SAFETY_URL: 'safety.url',
  SAFETY_TIMEOUT_MS: 'safety.timeoutMs',
  MODERATION_TIMEOUT_MS: 'moderation.external.timeoutMs',
  MODERATION_FAIL_OPEN: 'moderation.external.failOpen',
  RETENTION_DAYS: 'retention.days',
  RETENTION_SWEEP_MINUTES: 'retention.sweepIntervalMinutes',
  RETENTION_ORPHAN_GRACE_HOURS: 'retention.orphanGraceHours',
  WEBHOOK_ALLOW_PRIVATE: 'webhooks.allowPrivate',
  WEBHOOK_TIMEOUT_SECONDS: 'webhooks.timeoutSeconds',
  WEBHOOK_RETRY_DELAY_SECONDS: 'webhooks.retryDelaySeconds',
  WEBHOOK_POLL_SECONDS: 'webhooks.pollSeconds',
  CORS_ORIGINS: 'cors.origins',
};

/** Variables that hold a comma-separated list. */
const LIST_ENV_KEYS = new Set(['CORS_ORIGINS']);

const ajv = createAjv('coercing');
const validate = ajv.compile(ConfigSchema);
const validateBackend = new Map(Object.entries(BACKEND_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]));
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads `atelier.config.json` (or the file named by ATELIER_CONFIG), overlays environment
 * variables, applies defaults and validates. Errors name the bad key and where it came from.
 *
 * @example const config = loadConfig(process.env) // throws AtelierError('config_invalid', …)
 */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  // Like every variable, an empty ATELIER_CONFIG counts as unset.
  const named = env.ATELIER_CONFIG ? resolve(cwd, env.ATELIER_CONFIG) : undefined;
  const file = named ?? resolve(cwd, 'atelier.config.json');
  const raw: Record<string, unknown> = readConfigFile(file, named !== undefined);
  const fromEnv = new Map<string, string>();
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, LIST_ENV_KEYS.has(name) ? value.split(',').map((item) => item.trim()).filter((item) => item !== '') : value);
    fromEnv.set(path, name);
  }
  // The union of backend kinds would report the first kind's complaint; judge each entry by its own.
  for (const [name, entry] of Object.entries(isObject(raw.backends) ? raw.backends : {})) {
    const check = isObject(entry) && typeof entry.type === 'string' ? validateBackend.get(entry.type) : undefined;
    if (check && !check(entry)) {
      const error = ajvErrorsToAtelierError(check.errors!, entry, `backends.${name}`);
      throw new AtelierError('config_invalid', `Invalid configuration (${file}): ${error.message}`, { field: error.field });
    }
  }
  if (!validate(raw)) {
    const error = ajvErrorsToAtelierError(validate.errors!, raw);
    const source = error.field && fromEnv.has(error.field) ? `environment variable ${fromEnv.get(error.field)}` : file;
    throw new AtelierError('config_invalid', `Invalid configuration (${source}): ${error.message}`, { field: error.field });
  }
  const config = raw as unknown as Config;
  for (const model of config.models) {
    if (!config.backends[model.backend]) {
      throw new AtelierError('config_invalid', `Invalid configuration (${file}): model '${model.name}' names unknown backend '${model.backend}'`, { field: 'models' });
    }
    const refused = refusedModelSettings(model, config.backends[model.backend]!.type);
    if (refused) throw new AtelierError('config_invalid', `Invalid configuration (${file}): model '${model.name}' ${refused}`, { field: 'models' });
  }
  const refused = refusedAlias(config) ?? refusedOrigin(config.cors.origins);
  if (refused) {
    const source = refused.field === 'cors.origins' && fromEnv.has('cors.origins') ? 'environment variable CORS_ORIGINS' : file;
    throw new AtelierError('config_invalid', `Invalid configuration (${source}): ${refused.message}`, { field: refused.field });
  }
  resolveWorkflowPaths(config, dirname(file));
  resolvePresetPaths(config, dirname(file));
  return config;
}

/** An alias must name a configured model, and may not hide one (which would the name mean?). */
function refusedAlias(config: Config): { message: string; field: string } | undefined {
  const models = config.models.map((model) => model.name);
  for (const [alias, target] of Object.entries(config.aliases)) {
    const field = `aliases.${alias}`;
    if (models.includes(alias)) return { message: `alias '${alias}' is also the name of a model`, field };
    if (!models.includes(target)) return { message: `alias '${alias}' names unknown model '${target}'. Models: ${models.join(', ')}`, field };
  }
  return undefined;
}

/**
 * A browser sends `Origin: scheme://host[:port]`, compared as text: a trailing slash or a
 * path would never match, so it is refused here rather than silently allowing nothing.
 */
function refusedOrigin(origins: readonly string[]): { message: string; field: string } | undefined {
  for (const origin of origins) {
    if (origin === '*') continue;
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      canonical = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin) {
      const hint = canonical ? ` (did you mean '${canonical}'?)` : '';
      return { message: `Expected an origin scheme://host[:port] or '*' for cors.origins but received '${origin}'${hint}`, field: 'cors.origins' };
    }
  }
  return undefined;
}

/**
 * A ComfyUI backend's workflow files are named relative to the configuration file, as a user
 * who keeps them side by side expects, whatever directory the server is started from.
 */
function resolveWorkflowPaths(config: Config, baseDir: string): void {
  for (const settings of Object.values(config.backends)) {
    if (settings.type !== 'comfyui' || settings.workflows === undefined) continue;
    for (const files of Object.values(settings.workflows)) {
      if (files === undefined) continue;
      const mutable = files as { graph: string; bindings: string };
      mutable.graph = resolve(baseDir, files.graph);
      mutable.bindings = resolve(baseDir, files.bindings);
    }
  }
}

/**
 * Why a model's LoRAs or backend settings cannot work, or undefined: OpenAI takes neither,
 * the preview renderer has no checkpoint, VAE or text encoder to set, and a default LoRA
 * named twice would load twice.
 */
function refusedModelSettings(model: Config['models'][number], type: string): string | undefined {
  const settings = model.backendSettings ?? {};
  const names = (settings.loras ?? []).map((lora) => lora.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) return `names LoRA '${repeated}' twice in backendSettings.loras`;
  const asked = [
    ...((model.loras?.length ?? 0) > 0 ? ['loras'] : []),
    ...(['checkpoint', 'vae', 'loras', 'clipSkip'] as const).filter((key) => settings[key] !== undefined).map((key) => `backendSettings.${key}`),
  ];
  const refuses: Record<string, (field: string) => boolean> = {
    openai: () => true,
    builtin: (field) => field !== 'loras' && field !== 'backendSettings.loras',
  };
  const unapplied = asked.filter((field) => refuses[type]?.(field) ?? false);
  return unapplied.length > 0 ? `sets ${unapplied.join(', ')}, which its ${type} backend cannot apply` : undefined;
}

function readConfigFile(file: string, required: boolean): Record<string, unknown> {
  if (!existsSync(file)) {
    if (required) throw new AtelierError('config_invalid', `Configuration file ${file} does not exist`, { field: 'ATELIER_CONFIG' });
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('Expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new AtelierError('config_invalid', `Configuration file ${file} is not valid: ${(error as Error).message}`);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === null || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}
