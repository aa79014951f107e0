/**
 * What the server does with a request's `sampler_name`, mirrored so an unknown name is refused
 * before the request goes out. A1111 1.8 (api.py `validate_sampler_name`) answers 404
 * "Sampler not found"; 1.9+ and Forge (sd_samplers.py `get_sampler_and_scheduler`) first strip
 * a trailing " <scheduler>" ("DPM++ 2M Karras" is DPM++ 2M with the Karras schedule) and then
 * silently run their first sampler for a name they lack. Both look names up in
 * `all_samplers_map`, which is keyed by name only: an alias such as `k_euler` is unknown too.
 */
export interface A1111Samplers {
  /** GET /sdapi/v1/samplers names, in the server's order (the first is 1.9+'s fallback). */
  readonly names: readonly string[];
  /** Alias → name, only to word the refusal. */
  readonly aliases: ReadonlyMap<string, string>;
  /**
   * Per scheduler of GET /sdapi/v1/schedulers (1.9+), the texts that may end a sampler name:
   * label, name and aliases. Undefined on servers without that route (1.8).
   */
  readonly schedulers?: readonly (readonly string[])[];
}

/** Parses /samplers' and /schedulers' bodies, or returns undefined when /samplers is not that shape. */
export function parseSamplers(samplersBody: unknown, schedulersBody: unknown): A1111Samplers | undefined {
  if (!Array.isArray(samplersBody) || !samplersBody.every((s) => typeof (s as { name?: unknown } | null)?.name === 'string')) return undefined;
  const items = samplersBody as { name: string; aliases?: unknown }[];
  const aliases = new Map<string, string>();
  for (const item of items) for (const alias of Array.isArray(item.aliases) ? item.aliases : []) if (typeof alias === 'string') aliases.set(alias, item.name);
  const texts = (s: Record<string, unknown>) => [s.label, s.name, ...(Array.isArray(s.aliases) ? s.aliases : [])].filter((t): t is string => typeof t === 'string' && t !== '');
  const schedulers = Array.isArray(schedulersBody) ? schedulersBody.filter((s): s is Record<string, unknown> => s !== null && typeof s === 'object').map(texts) : undefined;
  return { names: items.map((s) => s.name), aliases, ...(schedulers ? { schedulers } : {}) };
}

/**
 * The sampler the server runs for `requested`, or undefined when it would refuse it (1.8)
 * or silently run another (1.9+, Forge).
 */
export function samplerThatRuns(table: A1111Samplers, requested: string): string | undefined {
  let name = requested;
  // The same walk as get_sampler_and_scheduler: each scheduler may strip one suffix.
  for (const options of table.schedulers ?? []) {
    const match = options.find((option) => name.endsWith(` ${option}`));
    if (match !== undefined) name = name.slice(0, -(match.length + 1));
  }
  return table.names.includes(name) ? name : undefined;
}

/** Why `requested` is refused, for the error message. */
export function describeUnknownSampler(table: A1111Samplers, requested: string): string {
  const alias = table.aliases.get(requested);
  if (alias !== undefined) return `'${requested}' is an alias of '${alias}', and the API takes sampler names only`;
  const fallback = table.schedulers && table.names[0] ? `; this version would silently use '${table.names[0]}' instead` : '';
  const shown = table.names.slice(0, 12).join(', ');
  return `it has no sampler '${requested}'${fallback} (it has ${shown}${table.names.length > 12 ? ', …' : ''})`;
}
