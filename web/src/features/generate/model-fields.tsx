import type { Dispatch } from 'react';
import { ASPECT_RATIOS } from '../../../../src/jobs/aspect-ratio';
import { problemFor, type FieldProblem } from './field-problems';
import { Field, NumberField } from './fields';
import type { FormAction, FormState } from './form-state';
import { capabilitiesOf, modelOptionText, modelsForTab, PREVIEW_RENDERER_TEXT, type ModelInfo } from './models';

/** Model, size and sampling: the settings every mode shares, bounded by the model. */
export function ModelFields({
  form,
  models,
  model,
  dispatch,
  problems,
}: {
  form: FormState;
  models: readonly ModelInfo[];
  model: ModelInfo | undefined;
  dispatch: Dispatch<FormAction>;
  problems: readonly FieldProblem[];
}) {
  const set = (patch: Parameters<typeof setPatch>[0]) => dispatch(setPatch(patch));
  const options = modelsForTab(models, form.tab);
  const video = form.tab === 'video';
  // Hires fix is a text-to-image pass, offered only by models whose backend runs it.
  const hiresFix = form.tab === 't2i' && capabilitiesOf(model).hiresFix;
  const maxSteps = model?.limits.maxSteps ?? 150;
  const maxImages = model?.limits.maxImages ?? 8;
  const samplers = model?.samplers ?? [form.sampler];
  return (
    <div className="grid-fields">
      <Field
        label="Model"
        className="span-2"
        // Always one line, before the models load too, so nothing below moves when they do.
        hint={
          model?.preview ? (
            <span data-testid="model-preview-badge" className="badge badge-preview" title="Shapes and colours drawn from the prompt, for trying the pipeline; every output is marked PREVIEW">
              {PREVIEW_RENDERER_TEXT}
            </span>
          ) : (
            <span className="model-label">{model?.label ?? '\u00a0'}</span>
          )
        }
      >
        {(id, hintId) => (
          <select id={id} value={form.model} aria-describedby={hintId} onChange={(event) => dispatch({ type: 'model', name: event.target.value, models })}>
            {options.length === 0 && <option value="">No model offers this mode</option>}
            {options.map((m) => (
              <option key={m.name} value={m.name}>
                {modelOptionText(m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Aspect ratio" hint={aspectHint(form)}>
        {(id, hintId) => (
          <select id={id} value={form.aspectRatio} aria-describedby={hintId} onChange={(event) => dispatch({ type: 'apply', apply: (f) => withAspectRatio(f, event.target.value) })}>
            <option value="">Auto</option>
            {ASPECT_RATIOS.map((ratio) => (
              <option key={ratio} value={ratio}>
                {ratio}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Sampler" error={problemFor(problems, 'sampler')}>
        {(id, describedBy, invalid) => (
          <select id={id} value={form.sampler} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(event) => set({ sampler: event.target.value })}>
            {samplers.map((sampler) => (
              <option key={sampler} value={sampler}>
                {sampler}
              </option>
            ))}
          </select>
        )}
      </Field>
      <NumberField label="Steps" value={form.steps} min={1} max={maxSteps} step={1} hint={`1–${maxSteps}`} error={problemFor(problems, 'steps')} onChange={(steps) => set({ steps })} />
      <NumberField label="CFG scale" value={form.cfgScale} min={0} max={30} step={0.5} hint="0–30" error={problemFor(problems, 'cfgScale')} onChange={(cfgScale) => set({ cfgScale })} />
      {!video && (
        <>
          <NumberField label="Number of images" value={form.numImages} min={1} max={maxImages} step={1} hint={`1–${maxImages}`} error={problemFor(problems, 'numImages')} onChange={(numImages) => set({ numImages })} />
          {hiresFix && (
            <div className="field checkbox-field">
              <label>
                <input type="checkbox" checked={form.hiresFix} onChange={(event) => set({ hiresFix: event.target.checked })} /> Hires fix
              </label>
              <span className="hint">A second, sharper pass (about twice the cost)</span>
            </div>
          )}
        </>
      )}
    </div>
  );
}

function setPatch(patch: Extract<FormAction, { type: 'set' }>['patch']): FormAction {
  return { type: 'set', patch };
}

/** An explicit width/height (typed in the JSON or reused) cannot go with an aspect ratio: the ratio replaces it. */
function withAspectRatio(form: FormState, aspectRatio: string): FormState {
  if (!aspectRatio) return { ...form, aspectRatio };
  const { width: _w, height: _h, ...extra } = form.extra;
  return { ...form, aspectRatio, extra };
}

function aspectHint(form: FormState): string | undefined {
  if (form.aspectRatio) return undefined;
  const { width, height } = form.extra as { width?: unknown; height?: unknown };
  if (typeof width === 'number' || typeof height === 'number') return `Custom size ${String(width ?? height)}×${String(height ?? width)}`;
  return form.tab === 't2i' ? "The model's default" : 'The input image’s shape';
}
