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

/**
 * How an external checker's verdicts name their model (`external:<host>`): its own `flagged`
 * stands, since its scores need not reproduce it.
 */
export const EXTERNAL_CHECKER_PREFIX = 'external:';

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

/**
 * Whether a stored output may be handed out again — a prompt-cache hit — under the policy in
 * force now, which may be stricter than the one it was made under. It may when it is what a
 * fresh run would deliver now: kept as it is when the policy is `off`, or when it is not
 * flagged (or the policy only flags); blurred when it is flagged under `blur`. Otherwise —
 * flagged under `block`, flagged and unblurred under `blur`, blurred where a fresh run would
 * not blur, or never scanned (made under `off`) while a policy is on — it may not, and the
 * request is rendered and scanned like any other. "Flagged" is judged with today's threshold
 * from the stored scores; an external checker's own flag (which scores cannot reproduce) stands.
 *
 * @example servableUnder({ policy: 'block', threshold: 0.7 }, asset.metadata.safety) // false when porn + hentai ≥ 0.7
 */
export function servableUnder(policy: SafetyPolicy, record: SafetyRecord | undefined): boolean {
  const delivered: SafetyAction = record?.blurred ? 'blur' : 'keep';
  if (policy.policy === 'off') return delivered === 'keep';
  if (!record) return false;
  const flagged = decide({ model: record.model, scores: record.scores }, policy.threshold).flagged || (record.flagged && record.model.startsWith(EXTERNAL_CHECKER_PREFIX));
  return actionFor(policy.policy, { flagged }) === delivered;
}

/** The message of a refused output: which output, by which model, on which scores. */
export function refusalMessage(index: number, record: SafetyRecord, threshold: number): string {
  const explicit = record.scores.porn + record.scores.hentai;
  return `Output ${index} was refused by this server's safety policy: ${record.model} flagged it (porn + hentai ${explicit.toFixed(2)}, threshold ${threshold})`;
}
