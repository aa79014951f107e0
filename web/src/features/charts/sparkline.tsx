import { niceMax, sparklinePoints } from './scale';

export interface SparklineProps {
  readonly values: readonly number[];
  /** The accessible summary of the numbers (the chart's aria-label). */
  readonly label: string;
  readonly width?: number;
  readonly height?: number;
}

/** A small line of recent samples, newest on the right (hand-written SVG). */
export function Sparkline({ values, label, width = 240, height = 48 }: SparklineProps) {
  const max = niceMax(Math.max(0, ...values));
  const points = sparklinePoints(values, width, height - 4, max);
  return (
    <svg className="chart sparkline" role="img" aria-label={label} viewBox={`0 -2 ${width} ${height}`} preserveAspectRatio="none">
      <line className="sparkline-base" x1={0} x2={width} y1={height - 4} y2={height - 4} />
      {/* Stretched to the panel's width (preserveAspectRatio none); the stroke stays crisp via non-scaling-stroke. */}
      {values.length > 1 && <polyline className="sparkline-line" points={points} fill="none" />}
    </svg>
  );
}
