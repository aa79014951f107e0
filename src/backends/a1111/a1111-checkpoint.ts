/** An item of GET /sdapi/v1/sd-models (api.py `get_sd_models`). */
export interface A1111Checkpoint {
  /** `name [shorthash]`, or the name alone while A1111 has not hashed the file yet. */
  readonly title: string;
  readonly model_name: string;
  /** The sha256's first 10 digits (A1111's "shorthash"), or null. */
  readonly hash: string | null;
  readonly sha256: string | null;
  readonly filename: string;
}

const stem = (path: string) => (path.split(/[\\/]/).at(-1) ?? path).replace(/\.[^.]+$/, '');

/**
 * The names A1111 accepts for a checkpoint in `override_settings.sd_model_checkpoint`: the
 * keys `sd_models.CheckpointInfo` registers in `checkpoint_aliases` (processing.py
 * `process_images` drops an override that is none of them, and the current model renders).
 * All but the old 8-digit `model_hash` can be rebuilt from /sd-models: the title, the
 * model name, the file name under the models folder (the title without its `[hash]`), its
 * stem, and with a hash the hash, the sha256, and `name [hash]` / `stem [hash]`.
 */
export function checkpointNames(c: A1111Checkpoint): string[] {
  const suffix = c.hash ? ` [${c.hash}]` : '';
  const name = suffix && c.title.endsWith(suffix) ? c.title.slice(0, -suffix.length) : c.title;
  const names = [c.title, c.model_name, name, stem(c.filename || name)];
  if (c.hash) names.push(c.hash, `${name} [${c.hash}]`, `${stem(c.filename || name)} [${c.hash}]`);
  if (c.sha256) names.push(c.sha256);
  return names;
}

/** The checkpoint `requested` names, matched exactly as A1111 does (case-sensitive). */
export function findCheckpoint(list: readonly A1111Checkpoint[], requested: string): A1111Checkpoint | undefined {
  return list.find((c) => checkpointNames(c).includes(requested));
}

/** Reads /sd-models' body, or undefined when it is not that shape. */
export function parseCheckpoints(body: unknown): A1111Checkpoint[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const items = body.filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object' && typeof (item as { title?: unknown }).title === 'string');
  if (items.length !== body.length) return undefined;
  return items.map((item) => ({ title: item.title as string, model_name: str(item.model_name) ?? '', hash: str(item.hash), sha256: str(item.sha256), filename: str(item.filename) ?? '' }));
}
