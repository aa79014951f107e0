import { useId, type Dispatch } from 'react';
import { DiceIcon, LockIcon } from './icons';
import { drawSeed, MAX_SEED, type FormAction, type FormState } from './form-state';

/**
 * The seed: a number (typing one fixes it), the dice (a new fixed seed), the lock (unlocked,
 * every run draws a random seed, -1) and reuse (keep the seed the last run used).
 */
export function SeedField({ form, dispatch, error }: { form: FormState; dispatch: Dispatch<FormAction>; error?: string }) {
  const id = useId();
  const shown = form.seed ?? '';
  return (
    <div className="field seed-field">
      <label htmlFor={id}>Seed</label>
      <div className="seed-row">
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={-1}
          max={MAX_SEED}
          step={1}
          placeholder="Random"
          value={shown}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error ${id}-hint` : `${id}-hint`}
          onChange={(event) => dispatch({ type: 'seed', seed: event.target.value === '' ? null : event.target.valueAsNumber })}
        />
        <button type="button" className="icon-button" aria-label="Random seed" title="Random seed" onClick={() => dispatch({ type: 'seed', seed: drawSeed() })}>
          <DiceIcon />
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label="Lock seed"
          aria-pressed={form.seedLocked}
          title={form.seedLocked ? 'Seed locked: every run uses it' : 'Seed unlocked: every run draws a new one'}
          onClick={() => dispatch({ type: 'lock', locked: !form.seedLocked, random: drawSeed() })}
        >
          <LockIcon open={!form.seedLocked} />
        </button>
        {form.lastSeed !== null && form.seed !== form.lastSeed && (
          <button type="button" className="ghost small" onClick={() => dispatch({ type: 'seed', seed: form.lastSeed })}>
            Reuse last seed
          </button>
        )}
      </div>
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
      <span id={`${id}-hint`} className="hint">
        {form.seedLocked ? 'Locked: every run uses this seed.' : 'Unlocked: every run draws a random seed.'}
      </span>
    </div>
  );
}
