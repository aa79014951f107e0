import { useRef, type KeyboardEvent } from 'react';
import type { Collection } from './history-api';

const OPTIONS: readonly { readonly value: Collection; readonly label: string }[] = [
  { value: 'workspace', label: 'Workspace' },
  { value: 'library', label: 'Library' },
];

/** "Workspace" / "Library" as a radio group: one tab stop, arrow keys move and choose. */
export function CollectionFilter({ value, onChange }: { value: Collection; onChange(next: Collection): void }) {
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = OPTIONS.findIndex((o) => o.value === value);
    const step = event.key === 'ArrowRight' || event.key === 'ArrowDown' ? 1 : event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = (index + step + OPTIONS.length) % OPTIONS.length;
    onChange(OPTIONS[next]!.value);
    buttons.current[next]?.focus();
  };
  return (
    <div role="radiogroup" aria-label="Collection" className="segmented" onKeyDown={onKeyDown}>
      {OPTIONS.map((option, i) => {
        const checked = option.value === value;
        return (
          <button
            key={option.value}
            ref={(el) => {
              buttons.current[i] = el;
            }}
            type="button"
            role="radio"
            aria-checked={checked}
            tabIndex={checked ? 0 : -1}
            onClick={() => onChange(option.value)}
          >
            {option.label}
          </button>
        );
      })}
    </div>
  );
}
