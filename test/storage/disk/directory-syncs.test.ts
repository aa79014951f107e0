import { describe, expect, it } from 'vitest';
import { createDirectorySyncs } from '../../../src/storage/disk/directory-syncs.js';

/** A directory sync the test completes by hand, recording which directory each call synced. */
function manualSyncs() {
  const started: { dir: string; finish: (error?: Error) => void }[] = [];
  const syncs = createDirectorySyncs(
    (dir) =>
      new Promise<void>((resolve, reject) => {
        started.push({ dir, finish: (error) => (error ? reject(error) : resolve()) });
      }),
  );
  return { syncs, started };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  // Let every queued continuation run.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
};

describe('directory syncs (group commit)', () => {
  it('callers arriving while a sync runs share the one next sync, which starts after it', async () => {
    const { syncs, started } = manualSyncs();
    const first = syncs.sync('/d');
    const second = syncs.sync('/d');
    const third = syncs.sync('/d');
    expect(started.map((s) => s.dir)).toEqual(['/d']);
    started[0]!.finish();
    expect(await settled(first)).toBe(true);
    // The running sync may have begun before their renames: they wait for a new one.
    expect(await settled(second)).toBe(false);
    expect(started).toHaveLength(2);
    started[1]!.finish();
    await Promise.all([second, third]);
    expect(started).toHaveLength(2);
  });

  it('keeps directories apart and starts afresh once idle', async () => {
    const { syncs, started } = manualSyncs();
    const a = syncs.sync('/a');
    const b = syncs.sync('/b');
    expect(started.map((s) => s.dir)).toEqual(['/a', '/b']);
    started[0]!.finish();
    started[1]!.finish();
    await Promise.all([a, b]);
    const again = syncs.sync('/a');
    expect(started).toHaveLength(3);
    started[2]!.finish();
    await again;
  });

  it('a failed sync fails its callers only; the waiting ones get their own sync', async () => {
    const { syncs, started } = manualSyncs();
    const first = syncs.sync('/d');
    const second = syncs.sync('/d');
    started[0]!.finish(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await Promise.resolve();
    await settled(second);
    expect(started).toHaveLength(2);
    started[1]!.finish();
    await expect(second).resolves.toBeUndefined();
  });
});
