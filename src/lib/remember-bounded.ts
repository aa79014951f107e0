/**
 * Sets `key` in `map` as its newest entry (a key already there moves to the end), then drops
 * the oldest entries until at most `maxEntries` remain: a recency-bounded cache on a plain Map,
 * which keeps insertion order.
 *
 * @example rememberBounded(laneOf, jobId, lane, 10_000)
 */
export function rememberBounded<K, V>(map: Map<K, V>, key: K, value: V, maxEntries: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > maxEntries) map.delete(map.keys().next().value!);
}
