import { join } from 'node:path';
import type { UsersRepo } from '../db/repos/users-repo.js';
import { generateToken } from '../db/repos/users-repo.js';
import { readOrCreateSecret, readSecret } from './secrets.js';

export interface AdminToken {
  /** The token to print, when it is known. */
  readonly token: string | undefined;
  readonly source: 'ATELIER_ADMIN_TOKEN' | 'generated' | 'data-dir' | 'unknown';
}

/**
 * Makes sure an admin can sign in. With ATELIER_ADMIN_TOKEN, that token is registered for
 * the admin. Without it, the first start with no admin creates one and a token kept
 * (owner-only) in `<dataDir>/admin-token`, so every later start can print it again.
 */
export async function bootstrapAdmin(users: UsersRepo, dataDir: string, configured: string | undefined, now = Date.now()): Promise<AdminToken> {
  try {
    return await ensureAdmin(users, dataDir, configured, now);
  } catch (error) {
    // Several nodes sharing one database start at once: another one created the admin (or
    // registered the same ATELIER_ADMIN_TOKEN) between our read and our insert, and the
    // unique indexes refused the copy. Looking again finds theirs.
    return ensureAdmin(users, dataDir, configured, now).catch(() => {
      throw error;
    });
  }
}

async function ensureAdmin(users: UsersRepo, dataDir: string, configured: string | undefined, now: number): Promise<AdminToken> {
  const file = join(dataDir, 'admin-token');
  let admin = await users.findByName('admin');
  if (configured) {
    admin ??= await users.create('admin', 'admin', now);
    await users.addToken(admin.id, 'ATELIER_ADMIN_TOKEN', now, configured);
    return { token: configured, source: 'ATELIER_ADMIN_TOKEN' };
  }
  // Users added with the CLI before the first start do not stand in for the admin.
  if (!admin && (await users.countAdmins()) === 0) {
    admin = await users.create('admin', 'admin', now);
    const { value } = readOrCreateSecret(file, generateToken);
    await users.addToken(admin.id, 'generated at first start', now, value);
    return { token: value, source: 'generated' };
  }
  const kept = readSecret(file);
  if (kept && (await users.findByToken(kept))) return { token: kept, source: 'data-dir' };
  return { token: undefined, source: 'unknown' };
}
