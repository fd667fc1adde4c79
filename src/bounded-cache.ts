// One way to keep what is built once per distinct key (SQL text per row count, label sets per model, a
// parsed URL per upstream endpoint): the keys are few in practice, and the cap keeps a stream of
// unexpected ones from growing the map without bound. Used as `cache.get(key) ?? keepBounded(cache, key,
// build(key), cap)`, so a hit allocates nothing (not even a closure for the build).

/** Keeps `value` for `key` while the cache holds fewer than `cap` keys, and returns it. */
export function keepBounded<K, V>(cache: Map<K, V>, key: K, value: V, cap: number): V {
  if (cache.size < cap) cache.set(key, value);
  return value;
}
