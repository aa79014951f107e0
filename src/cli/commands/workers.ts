import { join, resolve } from 'node:path';
import { createDatabase } from '../../db/create-db.js';
import { loadConfig } from '../../main/load-config.js';
import { createWorkerTokensRepo } from '../../db/repos/worker-tokens-repo.js';
import { CliError, UsageError } from '../cli-error.js';

const USAGE = 'Usage: atelier workers add NAME | atelier workers list | atelier workers remove NAME';

/**
 * `atelier workers add NAME`: creates a remote worker in the configured database and prints
 * its token (`atw_…`, shown once) for `atelier worker --token`. `list` shows the workers and
 * when each was last seen; `remove` revokes a token. Safe while the server runs.
 */
export async function workersCommand(args: string[]): Promise<void> {
  const [sub, name] = args;
  if (!((sub === 'add' || sub === 'remove') && name) && sub !== 'list') throw new UsageError(USAGE);
  const config = loadConfig(process.env);
  const database = await createDatabase(config.databaseUrl ?? `sqlite:${join(resolve(config.dataDir), 'atelier.db')}`);
  try {
    const tokens = createWorkerTokensRepo(database.db);
    if (sub === 'add') {
      const created = await tokens.create(name!);
      process.stderr.write(`Created worker '${created.name}' (${created.id}). Its worker token (shown once; use with atelier worker --token):\n`);
      process.stdout.write(`${created.token}\n`);
    } else if (sub === 'remove') {
      if (!(await tokens.remove(name!))) throw new CliError(`No worker named '${name}'`);
      process.stderr.write(`Revoked worker '${name}'\n`);
    } else {
      for (const row of await tokens.list()) {
        const seen = row.last_seen_at === null ? 'never seen' : `last seen ${new Date(Number(row.last_seen_at)).toISOString()}`;
        process.stdout.write(`${row.name}\t${row.id}\t${seen}\n`);
      }
    }
  } finally {
    await database.close();
  }
}
