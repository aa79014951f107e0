/**
 * What one A1111 server offers — checkpoints, samplers, ControlNet models and modules — read
 * from its list routes and kept for a short while (the lists change only when a file is
 * added, and then a name missing from a kept list is looked up once more before refusing).
 */
import { RetryableError } from '../../errors/signals.js';
import { parseCheckpoints, type A1111Checkpoint } from './a1111-checkpoint.js';
import { parseControlnetLists, type A1111ControlNetLists } from './a1111-controlnet-check.js';
import { a1111HttpError } from './a1111-errors.js';
import { parseSamplers, type A1111Samplers } from './a1111-sampler.js';
import { createCachedValue, type CachedValue } from './cached-value.js';
import { parseJsonBody, transportError, type HttpResponse } from './http-request.js';

export interface A1111Catalog {
  readonly checkpoints: CachedValue<readonly A1111Checkpoint[]>;
  readonly samplers: CachedValue<A1111Samplers>;
  /** Undefined when the server has no ControlNet extension (its routes answer 404). */
  readonly controlnet: CachedValue<A1111ControlNetLists | undefined>;
}

/** How long a list is kept; a name missing from it is looked up once more anyway. */
export const CATALOG_TTL_MS = 60_000;

/**
 * @param get GET a path relative to the server's base URL (rejects on transport errors).
 * @example const catalog = createA1111Catalog((path) => call('GET', path, connectMs), where)
 */
export function createA1111Catalog(get: (path: string) => Promise<HttpResponse>, where: string, ttlMs = CATALOG_TTL_MS): A1111Catalog {
  const malformed = (path: string) => new RetryableError(`${where} sent a malformed answer to GET /${path}`, 'backend_failed');
  /** The JSON body of a 200, undefined for a 404 when `missingOk`, a signal error otherwise. */
  const read = async (path: string, missingOk = false): Promise<unknown> => {
    let res: HttpResponse;
    try {
      res = await get(path);
    } catch (error) {
      throw transportError(`${where} (GET /${path})`, error);
    }
    if (res.status === 404 && missingOk) return undefined;
    if (res.status !== 200) throw a1111HttpError(where, res.status, res.body);
    const body = parseJsonBody(res.body);
    if (body === undefined) throw malformed(path);
    return body;
  };
  return {
    checkpoints: createCachedValue(async () => parseCheckpoints(await read('sdapi/v1/sd-models')) ?? Promise.reject(malformed('sdapi/v1/sd-models')), ttlMs),
    samplers: createCachedValue(async () => {
      // /schedulers exists from 1.9 on: its absence is what tells 1.8's exact matching apart.
      const [samplers, schedulers] = await Promise.all([read('sdapi/v1/samplers'), read('sdapi/v1/schedulers', true)]);
      return parseSamplers(samplers, schedulers) ?? Promise.reject(malformed('sdapi/v1/samplers'));
    }, ttlMs),
    controlnet: createCachedValue(async () => {
      const [models, modules, labels] = await Promise.all([
        read('controlnet/model_list', true),
        read('controlnet/module_list', true),
        read('controlnet/module_list?alias_names=true', true),
      ]);
      if (models === undefined || modules === undefined) return undefined;
      return parseControlnetLists(models, modules, labels) ?? Promise.reject(malformed('controlnet/model_list'));
    }, ttlMs),
  };
}
