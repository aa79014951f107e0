import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { formReducer, INITIAL_FORM, type FormAction, type FormState } from '../generate/form-state';
import type { ImageSlot } from '../generate/image-slot';
import type { ModelInfo } from '../generate/models';
import { storedEntry, type RunEntry } from './run-entries';
import { STORAGE_PREFIX, storageName, studioStorage } from './studio-storage';

/** A message about the last submission that went wrong, shown above the results (which stay). */
export interface Notice {
  readonly entryKey: string;
  readonly message: string;
  /** Retry can help (the server was out of reach), as opposed to a refusal. */
  readonly retry: boolean;
}

/**
 * The Generate screen's state, kept at the app level so it survives opening a result,
 * History or Back, and in sessionStorage per user so it survives a reload: the form (with the
 * uploads' ids, labels and small previews), the model list, the run queue, the selected run.
 */
export interface StudioState {
  readonly form: FormState;
  readonly models?: readonly ModelInfo[];
  /** Newest first. */
  readonly runs: readonly RunEntry[];
  /** Key of the run shown on the canvas. */
  readonly selected?: string;
  readonly notice?: Notice;
}

const initialState = (): StudioState => ({ form: INITIAL_FORM, runs: [] });

/** A slot as stored: a blob: preview dies with the page, an upload in flight cannot resume. */
function storedSlot(slot: ImageSlot | undefined): ImageSlot | undefined {
  if (!slot) return undefined;
  const previewUrl = slot.previewUrl?.startsWith('blob:') ? undefined : slot.previewUrl;
  const base: ImageSlot = { ...slot, previewUrl };
  if (slot.status !== 'uploading') return base;
  return { ...base, status: 'error', error: 'The upload was interrupted by a reload: pick the file again' };
}

function storedForm(form: FormState): FormState {
  return {
    ...form,
    reference: storedSlot(form.reference),
    start: storedSlot(form.start),
    end: storedSlot(form.end),
    controlImage: storedSlot(form.controlImage),
    guidance: form.guidance.map((slot) => storedSlot(slot)!),
  };
}

const storage = studioStorage<Partial<StudioState>>();

export const useStudio = create<StudioState>()(
  persist(initialState, {
    name: STORAGE_PREFIX,
    version: 1,
    storage,
    // Not bound to a user yet: bindStudioUser names the key, then hydrates.
    skipHydration: true,
    partialize: (state) => ({
      form: storedForm(state.form),
      models: state.models,
      runs: state.runs.map(storedEntry),
      selected: state.selected,
    }),
    // Fields added to the form since the state was stored take their defaults.
    merge: (stored, current) => {
      const saved = (stored ?? {}) as Partial<StudioState>;
      return { ...current, ...saved, form: { ...INITIAL_FORM, ...saved.form }, runs: saved.runs ?? [] };
    },
  }),
);

let boundUser: string | undefined;
const unbindListeners = new Set<() => void>();

/** Says when the studio is handed to another user (or signed out), to stop following runs. */
export function onStudioUnbind(listener: () => void): () => void {
  unbindListeners.add(listener);
  return () => unbindListeners.delete(listener);
}

/**
 * Loads the studio of the signed-in user (synchronously: sessionStorage), or empties it for
 * nobody (`undefined`, signed out). The previous user's stored studio is left as it was.
 */
export function bindStudioUser(userId: string | undefined): void {
  if (boundUser === userId) return;
  rebind(userId);
}

function rebind(userId: string | undefined): void {
  storage.flush();
  for (const listener of unbindListeners) listener();
  useStudio.persist.setOptions({ name: STORAGE_PREFIX }); // ownerless while switching: nothing written
  useStudio.setState(initialState(), true);
  boundUser = userId;
  if (userId === undefined) return;
  useStudio.persist.setOptions({ name: storageName(userId) });
  void useStudio.persist.rehydrate();
}

/** Back to an empty studio bound to nobody, its runs no longer followed (tests). */
export function resetStudio(): void {
  rebind(undefined);
}

export function dispatchForm(action: FormAction): void {
  useStudio.setState((state) => ({ form: formReducer(state.form, action) }));
}

export function setModels(models: readonly ModelInfo[]): void {
  useStudio.setState({ models });
}

export function selectRun(key: string | undefined): void {
  useStudio.setState({ selected: key });
}

export function dismissNotice(): void {
  useStudio.setState({ notice: undefined });
}

export function updateEntry(key: string, update: (entry: RunEntry) => RunEntry): void {
  useStudio.setState((state) => ({ runs: state.runs.map((entry) => (entry.key === key ? update(entry) : entry)) }));
}

export function findEntry(key: string): RunEntry | undefined {
  return useStudio.getState().runs.find((entry) => entry.key === key);
}
