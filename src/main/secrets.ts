import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Reads a secret kept in the data directory, creating it (owner-only) on first use. Used
 * for the URL-signing key and the generated admin token, so they survive restarts.
 */
export function readOrCreateSecret(file: string, create: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(dirname(file), { recursive: true });
  const value = create();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

export function readSecret(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export const randomSecret = () => randomBytes(32).toString('base64url');

/** A new node identity: `node-` and 12 hex digits. */
export const randomNodeId = () => `node-${randomBytes(6).toString('hex')}`;
