import type { Storage } from './storage.js';

type Operation = 'put' | 'get' | 'stat' | 'delete' | 'copy' | 'list';

/** `storage` with every request counted by operation (signing a URL is no request). */
export function countedStorage(storage: Storage, count: (op: Operation) => void): Storage {
  return {
    put: (key, body, options) => (count('put'), storage.put(key, body, options)),
    get: (key, options) => (count('get'), storage.get(key, options)),
    stat: (key) => (count('stat'), storage.stat(key)),
    delete: (key) => (count('delete'), storage.delete(key)),
    copy: (from, to) => (count('copy'), storage.copy(from, to)),
    list: (prefix) => (count('list'), storage.list(prefix)),
    signedUrl: (key, options) => storage.signedUrl(key, options),
  };
}
