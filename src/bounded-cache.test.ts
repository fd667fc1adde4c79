import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepBounded } from './bounded-cache.js';

test('a value is kept per key until the cap; past it, values are returned without being kept', () => {
  const cache = new Map<string, { key: string }>();
  let built = 0;
  const get = (key: string) => cache.get(key) ?? keepBounded(cache, key, (built++, { key }), 2);
  const a = get('a');
  assert.equal(get('a'), a, 'the same object for the same key');
  get('b');
  assert.equal(built, 2);
  const c = get('c');
  assert.deepEqual(c, { key: 'c' });
  assert.notEqual(get('c'), c, 'past the cap, not kept');
  assert.deepEqual([...cache.keys()], ['a', 'b']);
  assert.equal(built, 4);
});
