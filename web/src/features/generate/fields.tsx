import { useId, type ReactNode } from 'react';

/**
 * A labelled control with an optional hint and problem; the label names the control
 * (getByLabel). `children` gets the control's id, the ids that describe it (hint, problem)
 * and whether it is invalid, for aria-describedby and aria-invalid.
 */
export function Field({
  label,
  hint,
  error,
  children,
  className,
}: {
  label: string;
  hint?: ReactNode;
  /** What is wrong with the value, shown under the control. */
  error?: string;
  className?: string;
  children: (id: string, describedBy: string | undefined, invalid: boolean) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id, describedBy, !!error)}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
    </div>
  );
}

/** A number input whose cleared value is NaN (explained as a problem, never sent). */
export function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  step,
  hint,
  error,
}: {
  label: string;
  value: number;
  onChange: (value: number) => void;
  min?: number;
  max?: number;
  step?: number;
  hint?: ReactNode;
  error?: string;
}) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(id, describedBy, invalid) => (
        <input
          id={id}
          type="number"
          inputMode="decimal"
          value={Number.isFinite(value) ? value : ''}
          min={min}
          max={max}
          step={step}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(event) => onChange(event.target.valueAsNumber)}
        />
      )}
    </Field>
  );
}
