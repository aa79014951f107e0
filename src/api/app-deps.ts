import type { BackendInfo } from '../backends/backend.js';
import type { ModelRegistry } from '../backends/model-registry.js';
import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { EvaluationsRepo } from '../db/repos/evaluations-repo.js';
import type { UsersRepo } from '../db/repos/users-repo.js';
import type { JobEvents } from '../events/job-events.js';
import type { Config } from '../main/config-schema.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobService } from '../service/job-service.js';
import type { LibraryService } from '../service/library-service.js';
import type { UploadService } from '../service/upload-service.js';
import type { Storage } from '../storage/storage.js';
import type { UrlSigner } from '../storage/url-signer.js';
import type { WebhookService } from '../webhooks/webhook-service.js';

/** Everything the HTTP layer may use, wired once in main/. No route reaches past these. */
export interface AppDeps {
  readonly config: Config;
  readonly jobService: JobService;
  readonly uploads: UploadService;
  readonly library: LibraryService;
  readonly assets: AssetsRepo;
  readonly evaluations: EvaluationsRepo;
  readonly users: UsersRepo;
  readonly events: JobEvents;
  readonly storage: Storage;
  /** Present when media is served by this server (disk storage). */
  readonly mediaSigner: UrlSigner | undefined;
  readonly registry: ModelRegistry;
  readonly backends: ReadonlyMap<string, BackendInfo>;
  readonly metrics: Metrics;
  /** Webhook signing secrets and delivery records. */
  readonly webhooks: WebhookService;
  /** Resolves when the database answers; used by /readyz. */
  readonly ping: () => Promise<void>;
}
