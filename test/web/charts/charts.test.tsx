// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { BarChart } from '../../../web/src/features/charts/bar-chart';
import { DonutChart } from '../../../web/src/features/charts/donut-chart';
import { Sparkline } from '../../../web/src/features/charts/sparkline';
import { StackedBar } from '../../../web/src/features/charts/stacked-bar';

afterEach(cleanup);

describe('SVG charts', () => {
  it('a donut fills its ring to the fraction', () => {
    render(<DonutChart fraction={0.25} label="25 percent" />);
    const svg = screen.getByRole('img', { name: '25 percent' });
    const arc = svg.querySelector('.donut-value')!;
    const c = 2 * Math.PI * 42;
    const [dash, gap] = arc.getAttribute('stroke-dasharray')!.split(' ').map(Number);
    expect(dash).toBeCloseTo(c / 4);
    expect(gap).toBeCloseTo((3 * c) / 4);
    expect(svg.textContent).toBe('25%');
  });

  it('an empty donut draws no arc', () => {
    render(<DonutChart fraction={0} label="none" />);
    expect(screen.getByRole('img', { name: 'none' }).querySelector('.donut-value')).toBeNull();
  });

  it('bars have heights proportional to their values and show them', () => {
    render(
      <BarChart
        label="bars"
        bars={[
          { label: 'a', value: 10 },
          { label: 'b', value: 5 },
          { label: 'c', value: 0 },
        ]}
      />,
    );
    const svg = screen.getByRole('img', { name: 'bars' });
    const heights = [...svg.querySelectorAll('rect')].map((r) => Number(r.getAttribute('height')));
    expect(heights[0]).toBeGreaterThan(0);
    expect(heights[1]).toBeCloseTo(heights[0]! / 2);
    expect(heights[2]).toBe(0);
    expect([...svg.querySelectorAll('.chart-label')].map((t) => t.textContent)).toEqual(['a', 'b', 'c']);
    expect([...svg.querySelectorAll('.chart-value')].map((t) => t.textContent)).toEqual(['10', '5']);
  });

  it('a stacked bar splits its width by value', () => {
    render(
      <StackedBar
        label="stack"
        parts={[
          { label: 'ok', value: 3, tone: 'ok' },
          { label: 'failed', value: 1, tone: 'danger' },
        ]}
      />,
    );
    const rects = [...screen.getByRole('img', { name: 'stack' }).querySelectorAll('rect')].slice(1);
    expect(rects.map((r) => [r.getAttribute('class'), Number(r.getAttribute('width'))])).toEqual([
      ['tone-ok', 225],
      ['tone-danger', 75],
    ]);
  });

  it('a sparkline draws one point per sample', () => {
    render(<Sparkline label="trend" values={[1, 2, 3, 2]} />);
    expect(screen.getByRole('img', { name: 'trend' }).querySelector('polyline')!.getAttribute('points')!.split(' ')).toHaveLength(4);
  });
});
