import { join, resolve } from 'node:path';
import { createDatabase } from '../../db/create-db.js';
import { createUsersRepo } from '../../db/repos/users-repo.js';
import { loadConfig } from '../../main/load-config.js';
import { addUser } from '../../service/add-user.js';
import { UsageError } from '../cli-error.js';

/**
 * `atelier users add NAME [--admin]`: creates a user in the configured database and prints
 * its token (shown once). Safe while the server runs.
 */
export async function usersCommand(args: string[]): Promise<void> {
  const [sub, name, ...rest] = args;
  if (sub !== 'add' || !name) throw new UsageError('Usage: atelier users add NAME [--admin]');
  const config = loadConfig(process.env);
  const database = await createDatabase(config.databaseUrl ?? `sqlite:${join(resolve(config.dataDir), 'atelier.db')}`);
  try {
    const created = await addUser(createUsersRepo(database.db), name, rest.includes('--admin') ? 'admin' : 'user');
    process.stderr.write(`Created ${created.role} '${created.name}' (${created.id}). Its API token (shown once):\n`);
    process.stdout.write(`${created.token}\n`);
  } finally {
    await database.close();
  }
}
