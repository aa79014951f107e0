import { barLayout, niceMax, niceTicks } from './scale';
import type { Tone } from './tone';
import { useWidth } from './use-width';

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly tone?: Tone;
}

export interface BarChartProps {
  readonly bars: readonly Bar[];
  /** The accessible summary of the numbers (the chart's aria-label). */
  readonly label: string;
  /** Height in pixels, labels included. */
  readonly height?: number;
  /** Side by side without gaps, as a histogram's buckets are. */
  readonly histogram?: boolean;
  /** Axis caption under the bar labels, e.g. "seconds". */
  readonly axisLabel?: string;
  /** Write "0" over empty bars too (a few categories, where zero is news). */
  readonly showZero?: boolean;
}

const LEFT = 34; // room for the y-axis numbers
const TOP = 16; // room for the value over the tallest bar
const LABEL_WIDTH = 46; // a category label needs about this much room

/**
 * Vertical bars with a y axis, value labels and category labels (hand-written SVG). Drawn at the
 * container's pixel width so text keeps its size; labels thin out when bars get narrow.
 */
export function BarChart({ bars, label, height = 200, histogram = false, axisLabel, showZero = false }: BarChartProps) {
  const [box, width] = useWidth<HTMLDivElement>(480);
  const bottom = axisLabel ? 38 : 22;
  const plotWidth = Math.max(60, width - LEFT - 4);
  const plotHeight = height - bottom - TOP;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const layout = barLayout(
    bars.map((b) => b.value),
    plotWidth,
    plotHeight,
    max,
    histogram ? 0.06 : 0.35,
  );
  const slot = bars.length > 0 ? plotWidth / bars.length : plotWidth;
  const labelEvery = Math.max(1, Math.ceil(LABEL_WIDTH / slot));
  return (
    <div ref={box} className="chart-box">
      <svg className="chart bars" role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        <g transform={`translate(${LEFT} ${TOP})`}>
          {niceTicks(max).map((tick) => {
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
                {(bar.value > 0 || showZero) && (
                  <text className="chart-value" x={cx} y={geometry.y - 4} textAnchor="middle">
                    {formatTick(bar.value)}
                  </text>
                )}
                {i % labelEvery === 0 && (
                  <text className="chart-label" x={cx} y={plotHeight + 15} textAnchor="middle">
                    {bar.label}
                  </text>
                )}
              </g>
            );
          })}
          {axisLabel && (
            <text className="chart-label" x={plotWidth / 2} y={plotHeight + 32} textAnchor="middle">
              {axisLabel}
            </text>
          )}
        </g>
      </svg>
    </div>
  );
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}
