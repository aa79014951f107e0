/**
 * Directory fsyncs shared between concurrent writers (group commit): a rename is durable once
 * a sync of its directory *started after it* completes. Writers that arrive while a sync runs
 * all wait for the one next sync instead of each issuing their own, so the files of a job,
 * written in parallel into one directory, cost one directory fsync rather than one each.
 */
export function createDirectorySyncs(syncDirectory: (dir: string) => Promise<void>) {
  const states = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  function start(dir: string): Promise<void> {
    const running = syncDirectory(dir).finally(() => {
      const state = states.get(dir);
      if (state && state.running === running && !state.next) states.delete(dir);
    });
    const state = states.get(dir);
    if (state) state.running = running;
    else states.set(dir, { running });
    return running;
  }

  return {
    /** Resolves when a sync of `dir` that began after this call has completed. */
    sync(dir: string): Promise<void> {
      const state = states.get(dir);
      if (!state) return start(dir);
      // A sync is running; it may have begun before our rename, so ours is the next one.
      state.next ??= state.running
        .catch(() => undefined)
        .then(() => {
          state.next = undefined;
          return start(dir);
        });
      return state.next;
    },
  };
}
