import type { Dispatch } from 'react';
import { ImageInput } from '../uploads/image-input';
import { Field } from './fields';
import type { FormAction, FormState } from './form-state';
import type { ModelInfo } from './models';

/** One ControlNet unit: a control image, its type (those the model supports) and weight 0–2. */
export function ControlNetPanel({
  form,
  types,
  models,
  dispatch,
  pick,
}: {
  form: FormState;
  types: readonly string[];
  models: readonly ModelInfo[];
  dispatch: Dispatch<FormAction>;
  pick: (file: File) => FormState['controlImage'];
}) {
  return (
    <fieldset className="panel">
      <legend>ControlNet</legend>
      <ImageInput
        label="Control image"
        previewAlt="Control image preview"
        slot={form.controlImage}
        onPick={(file) => dispatch({ type: 'slot', slot: 'controlImage', value: pick(file), models })}
        onClear={() => dispatch({ type: 'slot', slot: 'controlImage', value: undefined, models })}
      />
      <div className="grid-fields">
        <Field label="Control type">
          {(id) => (
            <select id={id} value={form.controlType} onChange={(event) => dispatch({ type: 'set', patch: { controlType: event.target.value } })}>
              {types.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Control weight" hint={form.controlWeight.toFixed(2)}>
          {(id, hintId) => (
            <input
              id={id}
              type="range"
              min={0}
              max={2}
              step={0.05}
              value={form.controlWeight}
              aria-describedby={hintId}
              onChange={(event) => dispatch({ type: 'set', patch: { controlWeight: event.target.valueAsNumber } })}
            />
          )}
        </Field>
      </div>
      {!form.controlImage && <p className="hint">Without a control image no ControlNet is applied.</p>}
    </fieldset>
  );
}
