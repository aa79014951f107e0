import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lazyWorkDir } from '../../src/backends/lazy-work-dir.js';

const madeWith = (prefix: string) => readdirSync(tmpdir()).filter((name) => name.startsWith(prefix));

describe('lazyWorkDir', () => {
  it('makes no directory for a job that never reads its path', async () => {
    const prefix = `atelier-test-${randomUUID()}-`;
    const dir = lazyWorkDir(prefix);
    expect(madeWith(prefix)).toEqual([]);
    await dir.remove();
    expect(madeWith(prefix)).toEqual([]);
  });

  it('makes one directory on first read, keeps it, and removes it with its contents', async () => {
    const prefix = `atelier-test-${randomUUID()}-`;
    const dir = lazyWorkDir(prefix);
    const path = dir.path;
    expect(dir.path).toBe(path);
    expect(madeWith(prefix)).toHaveLength(1);
    writeFileSync(join(path, '0.mp4'), 'frames');
    await dir.remove();
    expect(existsSync(path)).toBe(false);
  });
});
