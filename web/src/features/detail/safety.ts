import type { AssetDetail } from './detail-api';

/** nsfwjs's classes in the order the panel lists them: the explicit two first. */
export const SAFETY_CLASSES = ['porn', 'hentai', 'sexy', 'drawing', 'neutral'] as const;

/** An asset's `metadata.safety` (README "Output safety"), when it was scanned. */
export interface SafetyView {
  readonly model: string;
  readonly scores: Readonly<Record<(typeof SAFETY_CLASSES)[number], number>>;
  readonly flagged: boolean;
  /** Delivered copies blurred; the original is served to its owner only (`/api/images/:id/file`). */
  readonly blurred: boolean;
}

/**
 * The safety scan's verdict from an asset's metadata, or undefined when it was not scanned (the
 * policy was `off`, or it was made before the scan existed). Missing scores read 0.
 *
 * @example safetyOf(detail)?.flagged
 */
export function safetyOf(detail: Pick<AssetDetail, 'metadata'>): SafetyView | undefined {
  const raw = detail.metadata.safety as { model?: unknown; scores?: Record<string, unknown>; flagged?: unknown; blurred?: unknown } | undefined;
  if (!raw || typeof raw !== 'object' || typeof raw.flagged !== 'boolean') return undefined;
  const score = (name: string) => {
    const value = raw.scores?.[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  };
  return {
    model: typeof raw.model === 'string' ? raw.model : 'unknown',
    scores: Object.fromEntries(SAFETY_CLASSES.map((name) => [name, score(name)])) as SafetyView['scores'],
    flagged: raw.flagged,
    blurred: raw.blurred === true,
  };
}

/** A probability as a percentage with one decimal: 0.9731 → "97.3 %". */
export function percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}
