import { useCallback, useEffect, useMemo, useRef, useState, type FocusEvent, type FormEvent, type KeyboardEvent } from 'react';
import { ControlNetPanel } from '../features/generate/controlnet-panel';
import { CostEstimateView } from '../features/generate/cost-estimate';
import { useCostEstimate } from '../features/generate/cost';
import { takePendingDraft, type Draft } from '../features/generate/draft';
import { formProblems, problemFor } from '../features/generate/field-problems';
import { Field, NumberField } from '../features/generate/fields';
import type { FormState } from '../features/generate/form-state';
import type { ImageSlot } from '../features/generate/image-slot';
import { JsonEditor, parseBody } from '../features/generate/json-editor';
import { ModeTabs, PANEL_ID, tabId } from '../features/generate/mode-tabs';
import { ModelFields } from '../features/generate/model-fields';
import { capabilitiesOf } from '../features/generate/models';
import { blockingReason, endFrameNote, schemaProblems } from '../features/generate/problems';
import { promptStats } from '../features/generate/prompt-stats';
import { bodyToForm, formFromDraft, requestFor } from '../features/generate/request-body';
import { SeedField } from '../features/generate/seed-field';
import { useOpenApi } from '../features/generate/use-openapi';
import { Canvas } from '../features/studio/canvas';
import { cancelRun, loadRuns, openRun, retryRun, submitRun } from '../features/studio/run-actions';
import { isActive } from '../features/studio/run-entries';
import { RunQueue } from '../features/studio/run-queue';
import { thumbnailDataUrl } from '../features/studio/slot-thumbnail';
import { dismissNotice, dispatchForm, selectRun, useStudio } from '../features/studio/studio-store';
import { useModelList } from '../features/studio/use-model-list';
import { useRunLink } from '../features/studio/use-run-link';
import { useStickyFooterPadding } from '../features/studio/use-sticky-footer-padding';
import { GuidanceUploader } from '../features/uploads/guidance-uploader';
import { ImageInput } from '../features/uploads/image-input';
import { useImageUploads } from '../features/uploads/use-image-uploads';
import '../styles/generate.css';

/**
 * The Generate screen, a studio: settings in a side column, the selected run large on the
 * canvas, the run queue beside it. Its state lives in the studio store (features/studio), so
 * it survives leaving the screen and reloading; the URL names the run shown (`?run=ID`).
 */
export function GeneratePage() {
  const { models, error: modelsError } = useModelList();
  const form = useStudio((state) => state.form);
  const runs = useStudio((state) => state.runs);
  const selected = useStudio((state) => state.selected);
  const notice = useStudio((state) => state.notice);
  const openapi = useOpenApi();
  /** Problems of JSON typed in the editor that was not applied (invalid); undefined otherwise. */
  const [typedProblems, setTypedProblems] = useState<string[]>();
  const upload = useImageUploads(useCallback((key: string, patch: Partial<ImageSlot>) => dispatchForm({ type: 'slot-update', key, patch }), []));
  const pick = useCallback(
    (file: File) => {
      const slot = upload(file);
      void thumbnailDataUrl(file).then((previewUrl) => previewUrl && dispatchForm({ type: 'slot-update', key: slot.key, patch: { previewUrl } }));
      return slot;
    },
    [upload],
  );
  const linkProblem = useRunLink(selected, runs);

  useEffect(() => {
    const controller = new AbortController();
    void loadRuns(controller.signal);
    return () => controller.abort();
  }, []);

  // A draft from the detail page ("Reuse settings", "Use as reference"), taken once on mount
  // and applied when the models are known (kept in a ref: StrictMode mounts twice).
  const draft = useRef<Draft | null | undefined>(undefined);
  useEffect(() => {
    if (draft.current === undefined) draft.current = takePendingDraft() ?? null;
  }, []);
  useEffect(() => {
    if (!models) return;
    // The model's defaults first, then the draft on top, then fit the draft's model.
    dispatchForm({ type: 'init', models });
    const pending = draft.current;
    if (pending) {
      draft.current = null;
      dispatchForm({ type: 'apply', apply: (current) => formFromDraft(pending, current, models) });
      dispatchForm({ type: 'init', models });
    }
  }, [models]);

  const list = useMemo(() => models ?? [], [models]);
  const model = list.find((m) => m.name === form.model);
  const caps = capabilitiesOf(model);
  const request = useMemo(() => requestFor(form, model), [form, model]);
  const fieldProblems = useMemo(() => formProblems(openapi, request.path, request.body, form, model), [openapi, request, form, model]);
  const problems = typedProblems ?? fieldProblems.map((problem) => problem.message);
  const reason = blockingReason(form, model, request.mode);
  const canGenerate = !!models && problems.length === 0 && !reason;
  const { estimate, source } = useCostEstimate(form, model, problems.length === 0);
  const stats = promptStats(form.prompt);
  const active = runs.filter(isActive).length;
  const entry = runs.find((run) => run.key === selected);
  const endNote = endFrameNote(form, model, list);

  const output = useRef<HTMLDivElement>(null);
  const footer = useRef<HTMLDivElement>(null);
  useStickyFooterPadding(footer);
  const run = () => {
    if (!canGenerate) return;
    void submitRun(request.path, request.body);
    // In one column the canvas is below the form: bring it into view.
    if (window.matchMedia?.('(max-width: 900px)').matches) output.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    run();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  };
  // What was typed is checked as typed; only a valid body reaches the form (a wrong type must
  // not quietly become a default and be sent).
  const onJsonEdit = (text: string) => {
    const parsed = parseBody(text);
    if ('problem' in parsed) return setTypedProblems([parsed.problem]);
    const candidate = bodyToForm(parsed.body, form, list);
    const typed = requestFor(candidate, list.find((m) => m.name === candidate.model));
    const found = schemaProblems(openapi, typed.path, parsed.body);
    if (found.length > 0) return setTypedProblems(found);
    setTypedProblems(undefined);
    dispatchForm({ type: 'replace', form: candidate });
  };
  const setSlot = (slot: 'reference' | 'start' | 'end', value: FormState['reference']) => dispatchForm({ type: 'slot', slot, value, models: list });
  const set = (patch: Extract<Parameters<typeof dispatchForm>[0], { type: 'set' }>['patch']) => dispatchForm({ type: 'set', patch });
  const hint = !models ? 'Loading the models…' : reason ?? (problems.length > 0 ? `Fix the request first: ${problems[0]}` : active > 0 ? `Ctrl+Enter · ${active} in progress — each press queues another` : 'Ctrl+Enter');

  return (
    <div className="studio">
      <h1 className="visually-hidden">Generate</h1>
      <form className="gen-form" onSubmit={onSubmit} onKeyDown={onKeyDown} onFocus={revealFocused} noValidate aria-label="Settings">
        <ModeTabs tab={form.tab} onChange={(tab) => dispatchForm({ type: 'tab', tab, models: list })} />
        <div role="tabpanel" id={PANEL_ID} aria-labelledby={tabId(form.tab)} className="gen-panel">
          {modelsError && (
            <p role="alert" className="error">
              Could not load the models: {modelsError}
            </p>
          )}
          <Field label="Prompt" hint={<span data-testid="prompt-stats">{stats.label}</span>} error={problemFor(fieldProblems, 'prompt')}>
            {(id, describedBy, invalid) => (
              <textarea
                id={id}
                rows={4}
                value={form.prompt}
                aria-invalid={invalid || undefined}
                aria-describedby={describedBy}
                placeholder={form.tab === 'i2i' ? 'What to change (empty with Exact copy: reproduce the reference)' : 'What to generate'}
                onChange={(event) => set({ prompt: event.target.value })}
              />
            )}
          </Field>
          <Field label="Negative prompt" error={problemFor(fieldProblems, 'negativePrompt')}>
            {(id, describedBy, invalid) => (
              <textarea id={id} rows={2} value={form.negativePrompt} aria-invalid={invalid || undefined} aria-describedby={describedBy} placeholder="What to avoid" onChange={(event) => set({ negativePrompt: event.target.value })} />
            )}
          </Field>

          {form.tab === 'i2i' && (
            <fieldset className="panel">
              <legend>Reference</legend>
              <ImageInput label="Reference image" previewAlt="Reference preview" slot={form.reference} onPick={(file) => setSlot('reference', pick(file))} onClear={() => setSlot('reference', undefined)} />
              <div className="grid-fields">
                <Field label="Denoise" hint={`${form.denoise.toFixed(2)} — 0 keeps the reference, 1 ignores it`}>
                  {(id, describedBy) => <input id={id} type="range" min={0} max={1} step={0.01} value={form.denoise} aria-describedby={describedBy} onChange={(event) => set({ denoise: event.target.valueAsNumber })} />}
                </Field>
                <div className="field checkbox-field">
                  <label>
                    <input type="checkbox" checked={form.exactCopy} onChange={(event) => set({ exactCopy: event.target.checked })} /> Exact copy
                  </label>
                  <span className="hint">With an empty prompt: reproduce the reference as closely as possible</span>
                </div>
              </div>
            </fieldset>
          )}

          {form.tab === 'video' && (
            <fieldset className="panel">
              <legend>Frames</legend>
              <div className="grid-fields wide">
                <ImageInput label="Start frame" previewAlt="Start frame preview" slot={form.start} onPick={(file) => setSlot('start', pick(file))} onClear={() => setSlot('start', undefined)} />
                <ImageInput label="End frame" previewAlt="End frame preview" slot={form.end} onPick={(file) => setSlot('end', pick(file))} onClear={() => setSlot('end', undefined)} />
              </div>
              {endNote && (
                <p role="status" data-testid="end-frame-note" className="note-warn">
                  {endNote}
                </p>
              )}
              <div className="grid-fields">
                <NumberField label="Duration (s)" value={form.durationSeconds} min={0.1} max={60} step={0.5} error={problemFor(fieldProblems, 'durationSeconds')} onChange={(durationSeconds) => set({ durationSeconds })} />
                <NumberField label="FPS" value={form.fps} min={1} max={60} step={1} error={problemFor(fieldProblems, 'fps')} onChange={(fps) => set({ fps })} />
              </div>
              <p className="hint">{videoHint(form, model?.modes.includes('ti2v') ?? false)}</p>
            </fieldset>
          )}

          <ModelFields form={form} models={list} model={model} dispatch={dispatchForm} problems={fieldProblems} />
          <SeedField form={form} dispatch={dispatchForm} error={problemFor(fieldProblems, 'seed')} />

          {form.tab !== 'video' && caps.guidanceImages > 0 && (
            <GuidanceUploader
              slots={form.guidance}
              max={caps.guidanceImages}
              onPick={(files) => dispatchForm({ type: 'guidance-add', slots: files.map(pick) })}
              onRemove={(key) => dispatchForm({ type: 'guidance-remove', key })}
            />
          )}
          {form.tab !== 'video' && caps.controlnet.length > 0 && <ControlNetPanel form={form} types={caps.controlnet} models={list} dispatch={dispatchForm} pick={pick} />}

          <JsonEditor body={request.body} problems={typedProblems ?? []} onEdit={onJsonEdit} onSync={() => setTypedProblems(undefined)} />
          {!typedProblems && fieldProblems.length > 0 && (
            <div className="form-problems" data-testid="form-problems" aria-live="polite">
              <p>Fix before generating:</p>
              <ul>
                {fieldProblems.map((problem) => (
                  <li key={`${problem.key}:${problem.message}`}>{problem.message}</li>
                ))}
              </ul>
            </div>
          )}
        </div>

        <div className="gen-actions" ref={footer}>
          <CostEstimateView estimate={estimate} source={source} />
          <div className="gen-submit">
            <button type="submit" className="primary" disabled={!canGenerate} aria-describedby="generate-hint">
              Generate
            </button>
            <span id="generate-hint" className="hint" title={hint}>
              {hint}
            </span>
          </div>
        </div>
      </form>

      <div className="studio-stage" ref={output}>
        {notice && (
          <div role="alert" className="notice" data-testid="notice">
            <span>{notice.message}</span>
            <span className="notice-actions">
              {notice.retry && (
                <button type="button" className="small" onClick={() => void retryRun(notice.entryKey)}>
                  Retry
                </button>
              )}
              <button type="button" className="ghost small" onClick={dismissNotice}>
                Dismiss
              </button>
            </span>
          </div>
        )}
        {linkProblem && (
          <p role="alert" className="error">
            {linkProblem}
          </p>
        )}
        <Canvas entry={entry} models={models} />
      </div>

      <RunQueue runs={runs} selected={selected} models={models} onSelect={selectRun} onCancel={(key) => void cancelRun(key)} onRetry={(key) => void retryRun(key)} />
    </div>
  );
}

/**
 * Browsers scroll a focused textarea only as far as its caret; this brings the whole control
 * into view (within the page's scroll-padding, so clear of the sticky bars) when it fits.
 */
function revealFocused(event: FocusEvent<HTMLFormElement>): void {
  const target = event.target as HTMLElement;
  if (target.closest('.gen-actions')) return;
  target.scrollIntoView?.({ block: 'nearest' });
}

function videoHint(form: FormState, takesEnd: boolean): string {
  if (!form.start) return 'Without frames: text to video. Add a start frame to animate an image.';
  if (form.end) return takesEnd ? 'Start and end frames: the video moves from one to the other.' : 'With a start frame: image to video.';
  return 'With a start frame: image to video. Add an end frame to say where it ends.';
}
