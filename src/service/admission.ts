import type { ModelConfig } from '../backends/model-registry.js';
import type { UserRow } from '../db/schema.js';
import type { GenerationRequest } from '../jobs/generation-request.js';

/**
 * What an admission check sees: the caller, the model and the texts a backend would get.
 * Checks run before input images are fetched or stored, so a refusal costs nothing.
 */
export interface AdmissionContext {
  readonly user: UserRow;
  readonly model: ModelConfig;
  readonly request: GenerationRequest;
  /** Trimmed prompt ('' when none). */
  readonly prompt: string;
  /** Trimmed negative prompt, undefined when empty. */
  readonly negativePrompt: string | undefined;
}

/**
 * A gate every job passes before it is recorded (moderation, rate limits): it resolves to
 * let the job in, or throws an AtelierError (422, 429…) that reaches the client. A refused
 * job never reaches a backend and leaves nothing behind.
 */
export type AdmissionCheck = (context: AdmissionContext) => Promise<void>;
