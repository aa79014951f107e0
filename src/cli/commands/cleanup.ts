import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDatabase } from '../../db/create-db.js';
import { createAssetsRepo } from '../../db/repos/assets-repo.js';
import { createJobsRepo } from '../../db/repos/jobs-repo.js';
import { createUploadsRepo } from '../../db/repos/uploads-repo.js';
import { createStorage } from '../../main/create-storage.js';
import { databaseUrlOf, describeDatabase } from '../../main/database-url.js';
import { loadConfig } from '../../main/load-config.js';
import { randomSecret } from '../../main/secrets.js';
import { describeSweep, sweepRetention } from '../../service/retention.js';
import { createUrlSigner } from '../../storage/url-signer.js';
import { CliError, UsageError } from '../cli-error.js';
import { CLEANUP_USAGE } from '../usage.js';

/**
 * `atelier cleanup [--dry-run]`: one retention sweep over the configured database and
 * storage — the same sweep the server runs periodically. `--dry-run` lists what would be
 * deleted (counts and keys) and changes nothing. Safe while the server runs.
 */
export async function cleanupCommand(args: string[]): Promise<void> {
  const dryRun = parseOptions(args);
  const config = loadConfig(process.env);
  const databaseUrl = databaseUrlOf(config);
  const file = databaseUrl.replace(/^sqlite:/, '');
  // No database file means nothing was ever stored; opening one would create it. (Other URLs
  // go to createDatabase, which names what is wrong with them.)
  if (file !== ':memory:' && !/^[a-z]+:\/\//i.test(file) && !existsSync(file)) {
    process.stdout.write(`No database at ${file}: nothing to clean up.\n`);
    return;
  }

  process.stderr.write(`Using the database ${describeDatabase(databaseUrl)}\n`);
  const database = await createDatabase(databaseUrl);
  // The sweep never signs a URL: a throwaway key spares reading (or creating) the server's.
  const storageHandle = await createStorage(config, createUrlSigner(randomSecret()));
  try {
    const { db } = database;
    const result = await sweepRetention(
      { assets: createAssetsRepo(db), uploads: createUploadsRepo(db), jobs: createJobsRepo(db), storage: storageHandle.storage, retentionDays: config.retention.days, orphanGraceMs: config.retention.orphanGraceHours * 3600_000 },
      { now: Date.now(), dryRun },
    );
    if (dryRun) {
      process.stdout.write(`Dry run: would delete ${describeSweep(result)}; nothing was changed.\n`);
      for (const item of result.items) {
        process.stdout.write(`${item.kind} ${item.id}\n`);
        for (const key of item.keys) process.stdout.write(`  ${key}\n`);
      }
    } else {
      process.stdout.write(`Deleted ${describeSweep(result)}.\n`);
    }
    if (result.failed > 0) throw new CliError(`${result.failed} item(s) could not be deleted; they are hidden and the next cleanup retries them`);
  } finally {
    storageHandle.close();
    await database.close();
  }
}

function parseOptions(args: string[]): boolean {
  try {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean', default: false } }, allowPositionals: false });
    return values['dry-run'] === true;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${CLEANUP_USAGE}`);
  }
}
