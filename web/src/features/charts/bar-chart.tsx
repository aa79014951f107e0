import { barLayout, niceMax, ticks } from './scale';
import type { Tone } from './tone';

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly tone?: Tone;
}

export interface BarChartProps {
  readonly bars: readonly Bar[];
  /** The accessible summary of the numbers (the chart's aria-label). */
  readonly label: string;
  /** Drawing height of the plot in viewBox units (the width is fixed at 480 and scales). */
  readonly height?: number;
  /** Side by side without gaps, as a histogram's buckets are. */
  readonly histogram?: boolean;
  /** Axis caption under the bar labels, e.g. "seconds". */
  readonly axisLabel?: string;
}

const WIDTH = 480;
const LEFT = 34; // room for the y-axis numbers
const BOTTOM = 34; // room for the bar labels (and the axis caption)

/** Vertical bars with a y axis, value labels and category labels (hand-written SVG). */
export function BarChart({ bars, label, height = 180, histogram = false, axisLabel }: BarChartProps) {
  const plotWidth = WIDTH - LEFT - 6;
  const plotHeight = height - BOTTOM - 12;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const layout = barLayout(
    bars.map((b) => b.value),
    plotWidth,
    plotHeight,
    max,
    histogram ? 0.06 : 0.35,
  );
  // Thin the category labels when they would collide (13 histogram buckets on a phone).
  const labelEvery = bars.length > 8 ? 2 : 1;
  return (
    <svg className="chart bars" role="img" aria-label={label} viewBox={`0 0 ${WIDTH} ${height}`} preserveAspectRatio="xMidYMid meet">
      <g transform={`translate(${LEFT} 12)`}>
        {ticks(max, 4).map((tick) => {
          const y = plotHeight - (tick / max) * plotHeight;
          return (
            <g key={tick} className="chart-grid">
              <line x1={0} x2={plotWidth} y1={y} y2={y} />
              <text x={-6} y={y + 4} textAnchor="end">
                {formatTick(tick)}
              </text>
            </g>
          );
        })}
        {layout.map((geometry, i) => {
          const bar = bars[i]!;
          const cx = geometry.x + geometry.width / 2;
          return (
            <g key={bar.label}>
              <rect className={`tone-${bar.tone ?? 'accent'}`} x={geometry.x} y={geometry.y} width={geometry.width} height={geometry.height} rx={histogram ? 1 : 3} />
              {bar.value > 0 && (
                <text className="chart-value" x={cx} y={geometry.y - 4} textAnchor="middle">
                  {formatTick(bar.value)}
                </text>
              )}
              {i % labelEvery === 0 && (
                <text className="chart-label" x={cx} y={plotHeight + 14} textAnchor="middle">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
        {axisLabel && (
          <text className="chart-label" x={plotWidth / 2} y={plotHeight + 30} textAnchor="middle">
            {axisLabel}
          </text>
        )}
      </g>
    </svg>
  );
}

function formatTick(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(1);
}
