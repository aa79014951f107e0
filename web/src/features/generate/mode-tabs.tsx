import { useRef, type KeyboardEvent } from 'react';
import type { Tab } from './models';

export const TABS: readonly { readonly id: Tab; readonly label: string }[] = [
  { id: 't2i', label: 'Text to image' },
  { id: 'i2i', label: 'Image to image' },
  { id: 'video', label: 'Video' },
];

export const tabId = (tab: Tab) => `gen-tab-${tab}`;
export const PANEL_ID = 'gen-panel';

/** The mode tabs (WAI-ARIA tabs: arrow keys, Home and End move and select; one tab stop). */
export function ModeTabs({ tab, onChange }: { tab: Tab; onChange: (tab: Tab) => void }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = TABS.length - 1;
    const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    onChange(TABS[target]!.id);
    refs.current[target]?.focus();
  };
  return (
    <div role="tablist" aria-label="Mode" className="mode-tabs">
      {TABS.map((t, i) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={tabId(t.id)}
          aria-selected={t.id === tab}
          aria-controls={PANEL_ID}
          tabIndex={t.id === tab ? 0 : -1}
          onClick={() => onChange(t.id)}
          onKeyDown={(event) => onKeyDown(event, i)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
