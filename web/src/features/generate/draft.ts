/**
 * A draft handed to the Generate screen by another screen ("Reuse settings", "Use as
 * reference" on the detail page). It lives in sessionStorage, so it survives the navigation and
 * a reload in between, and is taken (read and removed) exactly once by the Generate page.
 */
export type DraftMode = 't2i' | 'i2i' | 'video';

export interface DraftReference {
  readonly assetId: string;
  /** A signed media URL to preview the reference (optional: the asset id alone is enough). */
  readonly url?: string;
}

export interface Draft {
  readonly mode: DraftMode;
  /** A request-body-like object (the job's params): prompt, model, steps, seed, … */
  readonly params: Record<string, unknown>;
  readonly reference?: DraftReference;
}

const STORAGE_KEY = 'atelier.pending-draft';

function storage(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}

/** Stores the draft for the Generate page (replacing any earlier one). */
export function setPendingDraft(draft: Draft): void {
  storage()?.setItem(STORAGE_KEY, JSON.stringify(draft));
}

/** Returns the pending draft and forgets it; undefined when none (or it is unreadable). */
export function takePendingDraft(): Draft | undefined {
  const store = storage();
  const raw = store?.getItem(STORAGE_KEY);
  if (!store || raw == null) return undefined;
  store.removeItem(STORAGE_KEY);
  return parseDraft(raw);
}

function parseDraft(raw: string): Draft | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const { mode, params, reference } = value as Record<string, unknown>;
  if (mode !== 't2i' && mode !== 'i2i' && mode !== 'video') return undefined;
  const draft: { mode: DraftMode; params: Record<string, unknown>; reference?: DraftReference } = {
    mode,
    params: params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {},
  };
  if (reference && typeof reference === 'object') {
    const { assetId, url } = reference as Record<string, unknown>;
    if (typeof assetId === 'string' && assetId) draft.reference = typeof url === 'string' ? { assetId, url } : { assetId };
  }
  return draft;
}
