import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as uploadsAndLibrary from './0002-uploads-and-library.js';
import * as assetVariants from './0003-asset-variants.js';
import * as retention from './0004-retention.js';
import * as promptCache from './0005-prompt-cache.js';
import * as evaluations from './0006-evaluations.js';
import * as workers from './0007-workers.js';
import * as postgresDoublePrecision from './0008-postgres-double-precision.js';
import * as webhooks from './0009-webhooks.js';
import * as userRemoval from './0010-user-removal.js';
import * as jobsCreatedIndex from './0011-jobs-created-index.js';

/**
 * Migrations are listed in code, not discovered on disk, so they work the same from
 * source, from dist and in any bundle. Append; never edit a released one.
 */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-uploads-and-library': uploadsAndLibrary,
  '0003-asset-variants': assetVariants,
  '0004-retention': retention,
  '0005-prompt-cache': promptCache,
  '0006-evaluations': evaluations,
  '0007-workers': workers,
  '0008-postgres-double-precision': postgresDoublePrecision,
  '0009-webhooks': webhooks,
  '0010-user-removal': userRemoval,
  '0011-jobs-created-index': jobsCreatedIndex,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
