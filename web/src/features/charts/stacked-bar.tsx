import { stackSegments } from './scale';
import type { Tone } from './tone';

export interface StackPart {
  readonly label: string;
  readonly value: number;
  readonly tone: Tone;
}

export interface StackedBarProps {
  readonly parts: readonly StackPart[];
  /** The accessible summary of the numbers (the chart's aria-label). */
  readonly label: string;
}

const WIDTH = 300;
const HEIGHT = 16;

/** One horizontal bar split into parts by value; an empty track when all are zero. */
export function StackedBar({ parts, label }: StackedBarProps) {
  const segments = stackSegments(parts, WIDTH);
  return (
    <svg className="chart stacked" role="img" aria-label={label} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none">
      <rect className="stacked-track" x={0} y={0} width={WIDTH} height={HEIGHT} rx={4} />
      {segments.map(({ item, x, width }) => (
        <rect key={item.label} className={`tone-${item.tone}`} x={x} y={0} width={width} height={HEIGHT}>
          <title>{`${item.label}: ${item.value}`}</title>
        </rect>
      ))}
    </svg>
  );
}
