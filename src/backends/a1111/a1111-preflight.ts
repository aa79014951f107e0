/**
 * Checks an outgoing txt2img/img2img body against what the server offers, because A1111
 * does not refuse what it lacks: an unknown checkpoint override is dropped and the current
 * model renders (processing.py `process_images`), an unknown sampler runs as another on 1.9+
 * and Forge (a 404 only on 1.8), and a ControlNet unit the extension cannot load makes its
 * script fail while the job goes on without ControlNet. Each of those "successes" would be
 * recorded as what was asked for. Whatever the body carries is checked, whoever put it there
 * (the backend's configuration or a model's own settings).
 */
import { UnrecoverableError } from '../../errors/signals.js';
import type { A1111Catalog } from './a1111-catalog.js';
import { findCheckpoint } from './a1111-checkpoint.js';
import { controlnetModelEntry, similarControlnetModel, type A1111ControlNetLists } from './a1111-controlnet-check.js';
import { describeUnknownSampler, samplerThatRuns } from './a1111-sampler.js';
import type { CachedValue } from './cached-value.js';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** "a, b, c and 4 more" */
const some = (names: readonly string[], max = 5) => (names.length === 0 ? 'none' : `${names.slice(0, max).join(', ')}${names.length > max ? ` and ${names.length - max} more` : ''}`);

/** `find` in the kept list, else in a fresh one (a file may just have been added). */
async function lookUp<T, R>(list: CachedValue<T>, find: (value: T) => R | undefined, signal: AbortSignal): Promise<{ value: T; found: R | undefined }> {
  const kept = await list.get(signal);
  const found = find(kept);
  if (found !== undefined) return { value: kept, found };
  const fresh = await list.refresh(signal);
  return { value: fresh, found: find(fresh) };
}

async function checkCheckpoint(catalog: A1111Catalog, where: string, requested: string, signal: AbortSignal): Promise<void> {
  const { value, found } = await lookUp(catalog.checkpoints, (list) => findCheckpoint(list, requested), signal);
  if (found) return;
  throw new UnrecoverableError(
    `${where} has no checkpoint '${requested}' (A1111 would silently render with its current model instead); it has ${some(value.map((c) => c.title))}`,
    'backend_rejected',
  );
}

async function checkSampler(catalog: A1111Catalog, where: string, requested: string, signal: AbortSignal): Promise<void> {
  const { value, found } = await lookUp(catalog.samplers, (table) => samplerThatRuns(table, requested), signal);
  if (found === undefined) throw new UnrecoverableError(`${where} cannot run the sampler: ${describeUnknownSampler(value, requested)}`, 'backend_rejected');
}

/** The first unit's problem, or undefined when every unit loads. */
function controlnetProblem(lists: A1111ControlNetLists | undefined, units: readonly Record<string, unknown>[]): string | undefined {
  if (!lists) return 'it has no ControlNet extension (GET /controlnet/model_list answered 404)';
  for (const [i, unit] of units.entries()) {
    const model = typeof unit.model === 'string' ? unit.model : '';
    const module = typeof unit.module === 'string' ? unit.module : 'none';
    if (!lists.modules.has(module)) return `unit ${i + 1}: it has no ControlNet preprocessor '${module}'`;
    if (controlnetModelEntry(lists, model) === undefined) {
      const similar = similarControlnetModel(lists, model);
      const hint = similar ? `; configure it as '${similar}'` : `; it has ${some(lists.models.filter((m) => m !== 'None'))}`;
      return `unit ${i + 1}: it has no ControlNet model '${model}'${hint}`;
    }
  }
  return undefined;
}

async function checkControlnet(catalog: A1111Catalog, where: string, units: readonly Record<string, unknown>[], signal: AbortSignal): Promise<void> {
  const { value } = await lookUp(catalog.controlnet, (lists) => (controlnetProblem(lists, units) === undefined ? lists : undefined), signal);
  const problem = controlnetProblem(value, units);
  if (problem) throw new UnrecoverableError(`${where} cannot apply ControlNet: ${problem} (its script would fail and the job render without ControlNet)`, 'backend_rejected');
}

/**
 * Refuses a body whose checkpoint, sampler or ControlNet units the server would not honour.
 *
 * @throws UnrecoverableError (`backend_rejected`) naming what is missing and what the server has;
 *   the catalog's signal errors when a list cannot be read; the signal's reason when it aborts.
 * @example await preflight(payload, catalog, 'AUTOMATIC1111 at http://gpu:7860', ctx.signal)
 */
export async function preflight(payload: Record<string, unknown>, catalog: A1111Catalog, where: string, signal: AbortSignal): Promise<void> {
  const checks: Promise<void>[] = [];
  const checkpoint = isObject(payload.override_settings) ? payload.override_settings.sd_model_checkpoint : undefined;
  if (typeof checkpoint === 'string') checks.push(checkCheckpoint(catalog, where, checkpoint, signal));
  if (typeof payload.sampler_name === 'string' && payload.sampler_name !== '') checks.push(checkSampler(catalog, where, payload.sampler_name, signal));
  const controlnet = isObject(payload.alwayson_scripts) ? payload.alwayson_scripts.controlnet : undefined;
  const units = isObject(controlnet) && Array.isArray(controlnet.args) ? controlnet.args.filter((u): u is Record<string, unknown> => isObject(u) && u.enabled !== false) : [];
  if (units.length > 0) checks.push(checkControlnet(catalog, where, units, signal));
  await Promise.all(checks);
}
