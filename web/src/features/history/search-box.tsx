import { useId } from 'react';
import { MAX_SEARCH } from './history-api';

/** The prompt search above the gallery: a labelled search field (Escape clears it, as search fields do). */
export function SearchBox({ value, onChange }: { value: string; onChange(next: string): void }) {
  const id = useId();
  return (
    <div className="history-search" role="search">
      <label htmlFor={id} className="visually-hidden">
        Search prompts
      </label>
      <span className="search-icon" aria-hidden="true">
        <svg viewBox="0 0 20 20" width="16" height="16">
          <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" strokeWidth="2" />
          <path d="m13 13 4.5 4.5" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
      </span>
      <input id={id} type="search" value={value} maxLength={MAX_SEARCH} placeholder="Search prompts" autoComplete="off" spellCheck={false} onChange={(event) => onChange(event.target.value)} />
    </div>
  );
}
