import { describe, expect, it } from 'vitest';
import { contentTypeForKey, isValidKey, storageKeys } from '../../src/storage/keys.js';

describe('storageKeys (the seed-000 layout)', () => {
  it('places workspace media under workspace-temp/{userId}/{jobId}', () => {
    expect(storageKeys.workspaceOriginal('u1', 'j1', 0)).toBe('workspace-temp/u1/j1/0.png');
    expect(storageKeys.workspaceOriginal('u1', 'j1', 3, 'mp4')).toBe('workspace-temp/u1/j1/3.mp4');
    expect(storageKeys.workspaceThumbnail('u1', 'j1', 0)).toBe('workspace-temp/u1/j1/0.thumb.webp');
  });

  it('places library media under user-library/{userId}/{jobId}', () => {
    expect(storageKeys.libraryOriginal('u1', 'j1', 2)).toBe('user-library/u1/j1/2.png');
    expect(storageKeys.libraryOriginal('u1', 'j1', 2, 'mp4')).toBe('user-library/u1/j1/2.mp4');
    expect(storageKeys.libraryThumbnail('u1', 'j1', 2)).toBe('user-library/u1/j1/2.thumb.webp');
  });

  it('builds keys that are valid and typed by their extension', () => {
    const id = '01HZX3V6Q5K9N0B2C4D6E8F0GH';
    const keys = [
      storageKeys.workspaceOriginal('user_1', id, 0),
      storageKeys.workspaceThumbnail('user_1', id, 0),
      storageKeys.libraryOriginal('user-1', id, 1, 'mp4'),
      storageKeys.libraryThumbnail('user-1', id, 1),
    ];
    for (const key of keys) expect(isValidKey(key), key).toBe(true);
    expect(keys.map(contentTypeForKey)).toEqual(['image/png', 'image/webp', 'video/mp4', 'image/webp']);
  });
});

describe('isValidKey', () => {
  it.each(['a', 'a/b', 'workspace-temp/u1/j1/0.png', '0.thumb.webp', 'A_b-C.d/e', 'x'.repeat(1024)])('accepts %j', (key) => {
    expect(isValidKey(key)).toBe(true);
  });

  it.each([
    '',
    '../etc/passwd',
    'a/../b',
    'a/..',
    '..',
    'a/b..c',
    '/abs',
    'a//b',
    'a/',
    './a',
    '.hidden',
    'a/.tmp/b',
    '-flag',
    '_x',
    'a\\b',
    'a b',
    'a/b?c',
    'a%2Fb',
    'é.png',
    'a\0b',
    'x'.repeat(1025),
  ])('rejects %j', (key) => {
    expect(isValidKey(key)).toBe(false);
  });
});

describe('contentTypeForKey', () => {
  it.each([
    ['a/0.png', 'image/png'],
    ['a/0.thumb.webp', 'image/webp'],
    ['a/0.jpg', 'image/jpeg'],
    ['a/0.jpeg', 'image/jpeg'],
    ['a/0.mp4', 'video/mp4'],
    ['a/meta.json', 'application/json'],
    ['a/0.PNG', 'image/png'],
    ['a/0.bin', 'application/octet-stream'],
    ['a/noext', 'application/octet-stream'],
  ])('%s → %s', (key, type) => {
    expect(contentTypeForKey(key)).toBe(type);
  });
});
