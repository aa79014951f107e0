import type { Tone } from './tone';

/** A colour key under a chart: swatch, name and number. */
export function Legend({ items }: { readonly items: readonly { readonly label: string; readonly value: number | string; readonly tone: Tone }[] }) {
  return (
    <ul className="legend">
      {items.map((item) => (
        <li key={item.label}>
          <span className={`swatch tone-${item.tone}`} aria-hidden="true" />
          {item.label} <strong>{item.value}</strong>
        </li>
      ))}
    </ul>
  );
}
