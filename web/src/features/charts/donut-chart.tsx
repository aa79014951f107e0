import { formatPercent, ringDash } from './scale';

export interface DonutChartProps {
  /** 0–1: how much of the ring is filled. */
  readonly fraction: number;
  /** The accessible summary of the numbers (the chart's aria-label). */
  readonly label: string;
  /** Under the percentage in the middle, e.g. "hit ratio". */
  readonly caption?: string;
  readonly size?: number;
}

/** A ring filled to a fraction with the percentage in its middle (hand-written SVG). */
export function DonutChart({ fraction, label, caption, size = 160 }: DonutChartProps) {
  const radius = 42;
  const { dash, gap } = ringDash(fraction, radius);
  return (
    <svg className="chart donut" role="img" aria-label={label} viewBox="0 0 100 100" width={size} height={size}>
      <circle className="donut-track" cx="50" cy="50" r={radius} fill="none" strokeWidth="12" />
      {dash > 0 && (
        <circle
          className="donut-value tone-accent"
          cx="50"
          cy="50"
          r={radius}
          fill="none"
          strokeWidth="12"
          strokeDasharray={`${dash} ${gap}`}
          // Start at 12 o'clock and run clockwise.
          transform="rotate(-90 50 50)"
          strokeLinecap={dash >= 2 * Math.PI * radius - 0.01 ? 'butt' : 'round'}
        />
      )}
      <text className="donut-percent" x="50" y={caption ? 50 : 55} textAnchor="middle">
        {formatPercent(fraction)}
      </text>
      {caption && (
        <text className="donut-caption" x="50" y="64" textAnchor="middle">
          {caption}
        </text>
      )}
    </svg>
  );
}
