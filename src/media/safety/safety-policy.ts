import type { SafetyResult, SafetyScores } from './safety-classifier.js';

export type SafetyPolicyName = 'off' | 'flag' | 'blur' | 'block';

/** The policy that applies to one model's outputs. */
export interface SafetyPolicy {
  readonly policy: SafetyPolicyName;
  /** Flagged when porn + hentai reaches it; 0 flags everything. */
  readonly threshold: number;
}

/** What is stored in an asset's `metadata.safety`. */
export interface SafetyRecord {
  readonly model: string;
  readonly scores: SafetyScores;
  readonly flagged: boolean;
  /** Set when the delivered copies (variants, thumbnail) are blurred and the original is kept for its owner only. */
  readonly blurred?: true;
}

export type SafetyAction = 'keep' | 'blur' | 'refuse';

export const DEFAULT_SAFETY_THRESHOLD = 0.7;

/** The server's policy with a model's own override (either field may be overridden alone). */
export function policyForModel(server: SafetyPolicy, override: Partial<SafetyPolicy> | undefined): SafetyPolicy {
  return { policy: override?.policy ?? server.policy, threshold: override?.threshold ?? server.threshold };
}

/**
 * Flagged when the explicit classes (porn + hentai) reach the threshold, when the threshold is
 * 0 (flag everything: an operator reviewing every output), or when an external checker says so.
 *
 * @example decide({ model: 'm', scores: { porn: 0.5, hentai: 0.3, … } }, 0.7) // flagged: true
 */
export function decide(result: SafetyResult, threshold: number): SafetyRecord {
  const explicit = result.scores.porn + result.scores.hentai;
  return { model: result.model, scores: result.scores, flagged: threshold <= 0 || explicit >= threshold || result.flagged === true };
}

/**
 * What happens to an output: kept as it is (`flag` stores the verdict and nothing more), kept
 * with blurred delivered copies, or refused.
 *
 * @example actionFor('block', { flagged: true, … }) // 'refuse'
 */
export function actionFor(policy: SafetyPolicyName, record: Pick<SafetyRecord, 'flagged'>): SafetyAction {
  if (!record.flagged) return 'keep';
  if (policy === 'block') return 'refuse';
  return policy === 'blur' ? 'blur' : 'keep';
}

/** The message of a refused output: which output, by which model, on which scores. */
export function refusalMessage(index: number, record: SafetyRecord, threshold: number): string {
  const explicit = record.scores.porn + record.scores.hentai;
  return `Output ${index} was refused by this server's safety policy: ${record.model} flagged it (porn + hentai ${explicit.toFixed(2)}, threshold ${threshold})`;
}
