import type { CostEstimate } from '../../../../src/jobs/cost';

const LABELS: Record<string, string> = {
  base: 'Base',
  pixelSteps: 'Denoising',
  frames: 'Frames',
  controlnet: 'ControlNet',
  hiresFix: 'Hires fix',
  guidanceImages: 'Input images',
};

export function formatAmount(amount: number, currency: string): string {
  const value = amount.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency === 'USD' ? `$${value}` : `${value} ${currency}`;
}

/** The live estimate and its non-zero line items. */
export function CostEstimateView({ estimate, source }: { estimate: CostEstimate | undefined; source: 'local' | 'server' }) {
  return (
    <div data-testid="cost-estimate" className="cost" aria-live="polite" data-source={source}>
      <span className="cost-label">Estimated cost</span>
      <strong className="cost-amount">{estimate ? formatAmount(estimate.amount, estimate.currency) : '—'}</strong>
      {/* Always there (empty until priced), so the footer keeps its height when the estimate arrives. */}
      <span className="cost-breakdown muted">
        {estimate
          ? Object.entries(estimate.breakdown)
              .filter(([, value]) => value > 0)
              .map(([key, value]) => `${LABELS[key] ?? key} ${value.toFixed(2)}`)
              .join(' · ')
          : '\u00a0'}
      </span>
    </div>
  );
}
