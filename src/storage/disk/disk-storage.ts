import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, lstat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtelierError, describeValue } from '../../errors/atelier-error.js';
import { contentTypeForKey, isValidKey } from '../keys.js';
import type { GetOptions, ObjectInfo, PutOptions, SignedUrlOptions, Storage } from '../storage.js';
import type { UrlSigner } from '../url-signer.js';
import { createDirectorySyncs } from './directory-syncs.js';

/** Options of {@link createDiskStorage}. */
export interface DiskStorageOptions {
  /** Directory holding the objects; created if missing. Temp files go to `{root}/.tmp`. */
  readonly root: string;
  /** Signs the URLs returned by `signedUrl`; the media route verifies them with the same signer. */
  readonly signer: UrlSigner;
  /** Path the media route is mounted at. Default `/media`. */
  readonly urlPrefix?: string;
  /** Called for every fsync (files and directories), e.g. to count them. */
  readonly onFsync?: () => void;
}

// Temp names start with '.', which no valid key segment can, so `.tmp` never collides with a key.
const TMP_DIR = '.tmp';
// Older than any put could take; younger files may belong to a put in flight.
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * A {@link Storage} on the local filesystem: key `a/b/c.png` is the file `{root}/a/b/c.png`.
 *
 * Writes go to `{root}/.tmp` (same filesystem, so `rename` is atomic), are fsynced, then renamed
 * over the final path: a reader or a crash sees the old object or the new one, never a part.
 *
 * The disk keeps no metadata, so `stat`/`get` report the content type implied by the key's
 * extension ({@link contentTypeForKey}); a `contentType` given to `put` is only echoed back by
 * that `put`. Name keys with the right extension.
 *
 * @example
 * const storage = createDiskStorage({ root: '/var/lib/atelier/media', signer });
 * await storage.put(storageKeys.workspaceOriginal('u1', 'j1', 0), png);
 */
export function createDiskStorage(options: DiskStorageOptions): Storage {
  const root = path.resolve(options.root);
  const rootPrefix = root.endsWith(path.sep) ? root : root + path.sep;
  const tmpDir = path.join(root, TMP_DIR);
  const urlPrefix = (options.urlPrefix ?? '/media').replace(/\/+$/, '');
  const { signer } = options;
  const onFsync = options.onFsync ?? (() => {});
  const directorySyncs = createDirectorySyncs(async (dir) => {
    onFsync();
    await fsyncDirectory(dir);
  });
  let tmpDirReady: Promise<unknown> | undefined;
  /** The temp directory, made once (and again when a write finds it gone). */
  function mkdirTmp(): Promise<unknown> {
    tmpDirReady ??= mkdir(tmpDir, { recursive: true }).catch((error: unknown) => {
      tmpDirReady = undefined;
      throw error;
    });
    return tmpDirReady;
  }

  /**
   * Creates a file at a fresh temp path with `create` (open, link). If the temp directory was
   * removed behind our back (an operator's clean-up), it is made again and `create` runs once
   * more; an ENOENT then is `create`'s own (e.g. a link's missing source).
   */
  async function inTemp<T>(create: (tmpFile: string) => Promise<T>): Promise<{ tmpFile: string; created: T }> {
    const tmpFile = path.join(tmpDir, `${randomUUID()}.tmp`);
    await mkdirTmp();
    try {
      return { tmpFile, created: await create(tmpFile) };
    } catch (error) {
      if (!isMissing(error)) throw error;
      tmpDirReady = undefined;
      await mkdirTmp();
      return { tmpFile, created: await create(tmpFile) };
    }
  }

  // A crash between creating and renaming a temp file leaves it behind. Sweep in the
  // background: start-up must not wait on a directory that may be large or on slow disk.
  void sweepStaleTemps(tmpDir);

  function pathFor(key: string): string {
    if (typeof key !== 'string' || !isValidKey(key)) {
      throw new AtelierError('invalid_parameter', `Expected a storage key of safe segments but received ${describeValue(key)}`, {
        field: 'key',
      });
    }
    const file = path.join(root, ...key.split('/'));
    // isValidKey already forbids `..` and absolute keys; this guards the guard.
    if (!file.startsWith(rootPrefix)) throw new AtelierError('invalid_parameter', 'The storage key leaves the storage root', { field: 'key' });
    return file;
  }

  async function infoOf(key: string, file: string, contentType?: string): Promise<ObjectInfo | undefined> {
    try {
      const stats = await stat(file);
      // A key that names a directory (a prefix of other keys) is not an object.
      if (!stats.isFile()) return undefined;
      return { key, size: stats.size, contentType: contentType ?? contentTypeForKey(key), modifiedAt: stats.mtime };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async function put(key: string, body: Buffer | Readable, putOptions?: PutOptions): Promise<ObjectInfo> {
    const file = pathFor(key);
    const { tmpFile, created: out } = await inTemp((temp) => open(temp, 'wx'));
    let handle: FileHandle | undefined = out;
    let size = 0;
    try {
      if (Buffer.isBuffer(body)) {
        await out.writeFile(body);
        size = body.length;
      } else {
        // Chunk by chunk, awaiting each write: backpressure without holding the stream in memory.
        // pipeline destroys `body` if the write fails and rejects if `body` errors.
        await pipeline(body, async (source: AsyncIterable<Uint8Array | string>) => {
          // A stream with setEncoding() yields strings; write them back as the same UTF-8 bytes.
          for await (const chunk of source) size += (await out.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)).bytesWritten;
        });
      }
      // Durable before visible: without it a crash after rename could leave an empty file.
      onFsync();
      await out.sync();
      await out.close();
      handle = undefined;
      await renameInto(tmpFile, file, directorySyncs.sync);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(tmpFile, { force: true }).catch(() => undefined);
      throw error;
    }
    // What was just written, without a stat: its size is what we wrote, its time is now.
    return { key, size, contentType: putOptions?.contentType ?? contentTypeForKey(key), modifiedAt: new Date() };
  }

  async function get(key: string, options?: GetOptions): Promise<Readable> {
    const file = pathFor(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isMissing(error)) throw notFound(key);
      throw error;
    }
    // Opening first means a missing key fails here, not as a stream error later, and the open
    // descriptor keeps reading the object it found even if it is overwritten or deleted meanwhile.
    try {
      if (!(await handle.stat()).isFile()) throw notFound(key);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    // autoClose (the default) closes the handle when the stream ends or is destroyed.
    return handle.createReadStream(options?.range ? { start: options.range.start, end: options.range.end } : {});
  }

  async function remove(key: string): Promise<void> {
    const file = pathFor(key);
    try {
      // lstat, not unlink blindly: a key naming a directory is "missing", not something to remove.
      if (!(await lstat(file)).isFile()) return;
      await unlink(file);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    await pruneEmptyParents(rootPrefix, path.dirname(file));
  }

  /** Walks the folder the prefix names (or its parent, for a partial segment), skipping temps. */
  async function* listFiles(prefix: string): AsyncGenerator<ObjectInfo> {
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    if (folder !== '' && !isValidKey(folder.slice(0, -1))) throw new AtelierError('invalid_parameter', `Expected a storage key prefix but received ${describeValue(prefix)}`, { field: 'prefix' });
    const start = path.join(root, ...folder.split('/').filter(Boolean));
    let entries;
    try {
      entries = await readdir(start, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (!relative.startsWith(prefix) || !isValidKey(relative)) continue;
      const info = await infoOf(relative, path.join(entry.parentPath, entry.name));
      if (info) yield info;
    }
  }

  /**
   * A copy as a second hard link to the same bytes: objects are never changed in place (a put
   * renames a new file over the key), so two links behave as two copies, and the bytes are
   * already durable. Linked to a temp name and renamed, like a put, so the key appears whole.
   * Undefined when the filesystem cannot link (the caller copies the bytes instead).
   */
  async function linkCopy(fromKey: string, toKey: string): Promise<ObjectInfo | undefined> {
    const from = pathFor(fromKey);
    const stats = await stat(from).catch((error: unknown) => {
      if (isMissing(error)) throw notFound(fromKey);
      throw error;
    });
    if (!stats.isFile()) throw notFound(fromKey);
    let tmpFile: string;
    try {
      ({ tmpFile } = await inTemp((temp) => link(from, temp)));
    } catch (error) {
      if (isMissing(error)) throw notFound(fromKey);
      return undefined;
    }
    try {
      await renameInto(tmpFile, pathFor(toKey), directorySyncs.sync);
    } catch (error) {
      await rm(tmpFile, { force: true }).catch(() => undefined);
      throw error;
    }
    return { key: toKey, size: stats.size, contentType: contentTypeForKey(toKey), modifiedAt: stats.mtime };
  }

  return {
    put,
    get,
    // async so a bad key rejects like every other method instead of throwing synchronously.
    stat: async (key) => infoOf(key, pathFor(key)),
    delete: remove,
    list(prefix: string) {
      return listFiles(prefix);
    },
    async copy(fromKey, toKey) {
      pathFor(toKey); // reject a bad destination before opening the source
      const linked = await linkCopy(fromKey, toKey);
      if (linked) return linked;
      // Reusing put gives the copy the same temp + fsync + rename atomicity.
      const source = await get(fromKey);
      try {
        return await put(toKey, source);
      } finally {
        source.destroy(); // closes the descriptor if put failed before consuming the stream
      }
    },
    async signedUrl(key, signedOptions: SignedUrlOptions) {
      pathFor(key);
      const seconds = signedOptions.expiresInSeconds;
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new AtelierError('invalid_parameter', `Expected a positive number of seconds but received ${describeValue(seconds)}`, {
          field: 'expiresInSeconds',
        });
      }
      const { downloadName } = signedOptions;
      const { expires, signature } = signer.sign(key, new Date(Date.now() + seconds * 1000), downloadName);
      // Key segments are URL-safe by construction; the query values are encoded with %20 for
      // spaces (not '+'), which every query parser decodes the same way.
      let url = `${urlPrefix}/${key}?expires=${expires}&signature=${encodeURIComponent(signature)}`;
      if (downloadName) url += `&download=${encodeURIComponent(downloadName)}`;
      return url;
    },
  };
}

/** The parts of a signed media URL's query, as produced by the disk adapter's `signedUrl`. */
export interface SignedMediaQuery {
  readonly expires: string;
  readonly signature: string;
  readonly downloadName: string | undefined;
}

/**
 * Picks `expires`, `signature` and `download` out of a parsed query string (e.g. Fastify's
 * `request.query`), or undefined when they are missing or repeated. Pass the result straight on:
 * `signer.verify(key, q.expires, q.signature, undefined, q.downloadName)`.
 */
export function parseSignedMediaQuery(query: unknown): SignedMediaQuery | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const { expires, signature, download } = query as Record<string, unknown>;
  if (typeof expires !== 'string' || typeof signature !== 'string') return undefined;
  if (download !== undefined && typeof download !== 'string') return undefined;
  return { expires, signature, downloadName: download === '' ? undefined : download };
}

function notFound(key: string): AtelierError {
  return new AtelierError('not_found', `No stored object at ${key}`);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // ENOTDIR: a parent segment is a file, so the key cannot exist either.
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Renames the temp file to its final path, creating parents when the rename says they are
 * missing (most puts go to a directory that exists: one syscall, not a mkdir per file). A
 * concurrent delete may prune the parent between our mkdir and rename, so an ENOENT is
 * retried a few times.
 */
async function renameInto(tmpFile: string, file: string, syncDirectory: (dir: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(file);
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tmpFile, file);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 4) throw error;
      await mkdir(dir, { recursive: true });
    }
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable. Best effort: not every platform can open a directory. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot fsync directories; the data itself is already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Removes `dir` and its ancestors while they are empty, stopping below the root. */
async function pruneEmptyParents(rootPrefix: string, dir: string): Promise<void> {
  let current = dir;
  // Strictly inside the root (`rootPrefix` ends with a separator): the root itself is kept.
  while (current.startsWith(rootPrefix) && current.length > rootPrefix.length) {
    try {
      await rmdir(current);
    } catch (error) {
      // Not empty (or a concurrent put refilled it): the ancestors are not empty either.
      if (!isMissing(error)) return;
    }
    current = path.dirname(current);
  }
}

/** Deletes temp files older than an hour, left by a crash mid-put. Never throws. */
async function sweepStaleTemps(tmpDir: string): Promise<void> {
  try {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(tmpDir)) {
      const file = path.join(tmpDir, name);
      const stats = await stat(file).catch(() => undefined);
      if (stats !== undefined && stats.mtimeMs < cutoff) await rm(file, { force: true, recursive: true }).catch(() => undefined);
    }
  } catch {
    // No .tmp yet, or unreadable: nothing to sweep; puts will surface real disk problems.
  }
}
