/**
 * Waits for writes made side by side and fails with the first error only once every write
 * has settled, so the clean-up that follows a failure never races a write still in flight
 * (which would land after the clean-up and leave a file no row owns).
 */
export async function settleWrites(writes: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
