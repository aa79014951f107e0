import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { ControlNetPanel } from '../features/generate/controlnet-panel';
import { CostEstimateView } from '../features/generate/cost-estimate';
import { useCostEstimate } from '../features/generate/cost';
import { takePendingDraft, type Draft } from '../features/generate/draft';
import { Field, NumberField } from '../features/generate/fields';
import { formReducer, INITIAL_FORM, type FormState } from '../features/generate/form-state';
import type { ImageSlot } from '../features/generate/image-slot';
import { JsonEditor, parseBody } from '../features/generate/json-editor';
import { ModeTabs, PANEL_ID, tabId } from '../features/generate/mode-tabs';
import { ModelFields } from '../features/generate/model-fields';
import { capabilitiesOf, useModels } from '../features/generate/models';
import { blockingReason, modelProblems, schemaProblems } from '../features/generate/problems';
import { promptStats } from '../features/generate/prompt-stats';
import { bodyToForm, formFromDraft, requestFor } from '../features/generate/request-body';
import { SeedField } from '../features/generate/seed-field';
import { useOpenApi } from '../features/generate/use-openapi';
import { LivePanel } from '../features/live/live-panel';
import { useRun } from '../features/live/use-run';
import { VariantGrid } from '../features/results/variant-grid';
import { GuidanceUploader } from '../features/uploads/guidance-uploader';
import { ImageInput } from '../features/uploads/image-input';
import { useImageUploads } from '../features/uploads/use-image-uploads';
import '../styles/generate.css';

/** The Generate screen: the form on the left, the run in flight and its results on the right. */
export function GeneratePage() {
  const { models, error: modelsError } = useModels();
  const [form, dispatch] = useReducer(formReducer, INITIAL_FORM);
  const openapi = useOpenApi();
  /** Problems of JSON typed in the editor that was not applied (invalid); undefined otherwise. */
  const [typedProblems, setTypedProblems] = useState<string[]>();
  const { live, submit, cancel } = useRun(
    useCallback((run: { status: string; seed: number }) => {
      if (run.status === 'succeeded') dispatch({ type: 'ran', seed: run.seed });
    }, []),
  );
  const pick = useImageUploads(useCallback((key: string, patch: Partial<ImageSlot>) => dispatch({ type: 'slot-update', key, patch }), []));

  // A draft from the detail page ("Reuse settings", "Use as reference"), taken once on mount
  // and applied when the models are known (kept in a ref: StrictMode mounts twice).
  const draft = useRef<Draft | null | undefined>(undefined);
  useEffect(() => {
    if (draft.current === undefined) draft.current = takePendingDraft() ?? null;
  }, []);
  useEffect(() => {
    if (!models) return;
    // The model's defaults first, then the draft on top, then fit the draft's model.
    dispatch({ type: 'init', models });
    const pending = draft.current;
    if (pending) {
      draft.current = null;
      dispatch({ type: 'apply', apply: (form) => formFromDraft(pending, form, models) });
      dispatch({ type: 'init', models });
    }
  }, [models]);

  const list = useMemo(() => models ?? [], [models]);
  const model = list.find((m) => m.name === form.model);
  const caps = capabilitiesOf(model);
  const request = useMemo(() => requestFor(form, model), [form, model]);
  const formProblems = useMemo(() => [...schemaProblems(openapi, request.path, request.body), ...modelProblems(form, model)], [openapi, request, form, model]);
  const problems = typedProblems ?? formProblems;
  const reason = blockingReason(form, model, request.mode);
  const busy = live.phase === 'submitting' || live.phase === 'running';
  const canGenerate = !!models && problems.length === 0 && !reason && !busy;
  const { estimate, source } = useCostEstimate(form, model, problems.length === 0);
  const stats = promptStats(form.prompt);

  const output = useRef<HTMLDivElement>(null);
  const run = () => {
    if (!canGenerate) return;
    void submit(request.path, request.body);
    // In one column the progress is below the form: bring it into view.
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
    dispatch({ type: 'replace', form: candidate });
  };
  const setSlot = (slot: 'reference' | 'start' | 'end', value: FormState['reference']) => dispatch({ type: 'slot', slot, value, models: list });
  const shownRun = live.run && live.run.status === 'succeeded' ? live.run : undefined;
  const previewRatio = live.run ? `${live.run.parameters.width} / ${live.run.parameters.height}` : '1 / 1';

  return (
    <div className="generate-page">
      <h1 className="visually-hidden">Generate</h1>
      <form className="gen-form" onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate>
        <ModeTabs tab={form.tab} onChange={(tab) => dispatch({ type: 'tab', tab, models: list })} />
        <div role="tabpanel" id={PANEL_ID} aria-labelledby={tabId(form.tab)} className="gen-panel">
          {modelsError && (
            <p role="alert" className="error">
              Could not load the models: {modelsError}
            </p>
          )}
          <Field label="Prompt" hint={<span data-testid="prompt-stats">{stats.label}</span>}>
            {(id, hintId) => (
              <textarea
                id={id}
                rows={4}
                value={form.prompt}
                aria-describedby={hintId}
                placeholder={form.tab === 'i2i' ? 'What to change (empty with Exact copy: reproduce the reference)' : 'What to generate'}
                onChange={(event) => dispatch({ type: 'set', patch: { prompt: event.target.value } })}
              />
            )}
          </Field>
          <Field label="Negative prompt">
            {(id) => <textarea id={id} rows={2} value={form.negativePrompt} placeholder="What to avoid" onChange={(event) => dispatch({ type: 'set', patch: { negativePrompt: event.target.value } })} />}
          </Field>

          {form.tab === 'i2i' && (
            <fieldset className="panel">
              <legend>Reference</legend>
              <ImageInput label="Reference image" previewAlt="Reference preview" slot={form.reference} onPick={(file) => setSlot('reference', pick(file))} onClear={() => setSlot('reference', undefined)} />
              <div className="grid-fields">
                <Field label="Denoise" hint={`${form.denoise.toFixed(2)} — 0 keeps the reference, 1 ignores it`}>
                  {(id, hintId) => (
                    <input id={id} type="range" min={0} max={1} step={0.01} value={form.denoise} aria-describedby={hintId} onChange={(event) => dispatch({ type: 'set', patch: { denoise: event.target.valueAsNumber } })} />
                  )}
                </Field>
                <div className="field checkbox-field">
                  <label>
                    <input type="checkbox" checked={form.exactCopy} onChange={(event) => dispatch({ type: 'set', patch: { exactCopy: event.target.checked } })} /> Exact copy
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
              <div className="grid-fields">
                <NumberField label="Duration (s)" value={form.durationSeconds} min={0.1} max={60} step={0.5} onChange={(durationSeconds) => dispatch({ type: 'set', patch: { durationSeconds } })} />
                <NumberField label="FPS" value={form.fps} min={1} max={60} step={1} onChange={(fps) => dispatch({ type: 'set', patch: { fps } })} />
              </div>
              <p className="hint">{form.start ? 'With a start frame: image to video.' : 'Without frames: text to video. Add a start frame to animate an image.'}</p>
            </fieldset>
          )}

          <ModelFields form={form} models={list} model={model} dispatch={dispatch} />
          <SeedField form={form} dispatch={dispatch} />

          {form.tab !== 'video' && caps.guidanceImages > 0 && (
            <GuidanceUploader
              slots={form.guidance}
              max={caps.guidanceImages}
              onPick={(files) => dispatch({ type: 'guidance-add', slots: files.map(pick) })}
              onRemove={(key) => dispatch({ type: 'guidance-remove', key })}
            />
          )}
          {form.tab !== 'video' && caps.controlnet.length > 0 && <ControlNetPanel form={form} types={caps.controlnet} models={list} dispatch={dispatch} pick={pick} />}

          <JsonEditor body={request.body} problems={problems} onEdit={onJsonEdit} onSync={() => setTypedProblems(undefined)} />
        </div>

        <div className="gen-actions">
          <CostEstimateView estimate={estimate} source={source} />
          <div className="gen-submit">
            <button type="submit" className="primary" disabled={!canGenerate} aria-describedby="generate-hint">
              Generate
            </button>
            <span id="generate-hint" className="hint">
              {busy ? 'Running…' : (reason ?? (problems.length > 0 ? `Fix the request first: ${problems[0]}` : 'Ctrl+Enter'))}
            </span>
          </div>
        </div>
      </form>

      <div className="gen-output" ref={output}>
        <LivePanel live={live} onCancel={cancel} aspectRatio={previewRatio} />
        {shownRun && <VariantGrid run={shownRun} />}
        {live.phase === 'idle' && !live.error && (
          <div className="gen-empty">
            <p>Your results appear here.</p>
            <p className="muted">Write a prompt and press Generate (or Ctrl+Enter).</p>
          </div>
        )}
      </div>
    </div>
  );
}
