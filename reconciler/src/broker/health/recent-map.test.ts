import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentMap } from './recent-map.js';

describe('recent-map: at most max entries, the least recently written forgotten first', () => {
  const cases: { name: string; max: number; writes: string[]; keys: string[] }[] = [
    { name: 'under the bound: all kept, in write order', max: 3, writes: ['a', 'b'], keys: ['a', 'b'] },
    { name: 'over it: the oldest goes', max: 3, writes: ['a', 'b', 'c', 'd'], keys: ['b', 'c', 'd'] },
    { name: 'a rewrite makes a key the newest', max: 3, writes: ['a', 'b', 'c', 'a', 'd'], keys: ['c', 'a', 'd'] },
    {
      name: '10k distinct keys: still 3',
      max: 3,
      writes: Array.from({ length: 10_000 }, (_, i) => `k${i}`),
      keys: ['k9997', 'k9998', 'k9999'],
    },
  ];
  for (const { name, max, writes, keys } of cases) {
    test(name, () => {
      const map = new RecentMap<string, number>(max);
      writes.forEach((key, index) => {
        map.set(key, index);
      });
      assert.deepEqual([...map.keys()], keys);
      assert.equal(map.size, keys.length);
    });
  }
  test('get reads without refreshing; delete forgets', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    assert.equal(map.get('a'), 1);
    map.set('c', 3);
    assert.equal(map.get('a'), undefined);
    map.delete('b');
    assert.deepEqual([...map.keys()], ['c']);
  });
});
