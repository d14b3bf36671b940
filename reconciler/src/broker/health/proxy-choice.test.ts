import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseProxy, type Candidate, type ChoiceRule } from './proxy-choice.js';

const candidate = (proxyId: string, score: number, openConnections = 0, trial = false): Candidate => ({
  proxyId,
  score,
  openConnections,
  trial,
});
/** A random source that returns `values` in turn. */
const draws = (...values: number[]): (() => number) => {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
};

describe('proxy-choice: which candidate gets the lease', () => {
  const cases: {
    name: string;
    candidates: Candidate[];
    websocket: boolean;
    random: number[];
    chosen: string | null;
    rule?: ChoiceRule;
  }[] = [
    { name: 'none: null', candidates: [], websocket: false, random: [0], chosen: null },
    { name: 'one: it', candidates: [candidate('a', 0.1)], websocket: false, random: [0], chosen: 'a', rule: 'only' },
    {
      name: 'two drawn, the better score wins (first drawn better)',
      candidates: [candidate('a', 0.9), candidate('b', 0.5), candidate('c', 0.1)],
      websocket: false,
      random: [0, 0],
      chosen: 'a',
      rule: 'power_of_two_choices',
    },
    {
      name: 'two drawn, the better score wins (second drawn better)',
      candidates: [candidate('a', 0.9), candidate('b', 0.5), candidate('c', 0.1)],
      websocket: false,
      random: [0.99, 0.6],
      chosen: 'b',
      rule: 'power_of_two_choices',
    },
    {
      name: 'the two are different: the second draw skips the first',
      candidates: [candidate('a', 0.1), candidate('b', 0.5), candidate('c', 0.9)],
      websocket: false,
      random: [0.5, 0.5],
      chosen: 'c',
      rule: 'power_of_two_choices',
    },
    {
      name: 'the best is not always chosen: only the two drawn compete',
      candidates: [candidate('a', 0.2), candidate('b', 0.1), candidate('c', 0.9)],
      websocket: false,
      random: [0, 0],
      chosen: 'a',
      rule: 'power_of_two_choices',
    },
    {
      name: 'a tie: the first drawn',
      candidates: [candidate('a', 0.5), candidate('b', 0.5)],
      websocket: false,
      random: [0.9, 0],
      chosen: 'b',
      rule: 'power_of_two_choices',
    },
    {
      name: 'websocket: fewest open connections, whatever the score',
      candidates: [candidate('a', 1, 3), candidate('b', 0.2, 1), candidate('c', 0.9, 2)],
      websocket: true,
      random: [0],
      chosen: 'b',
      rule: 'fewest_connections',
    },
    {
      name: 'websocket: equal connections, the better score',
      candidates: [candidate('a', 0.5, 1), candidate('b', 0.8, 1), candidate('c', 0.9, 2)],
      websocket: true,
      random: [0],
      chosen: 'b',
      rule: 'fewest_connections',
    },
    {
      name: 'websocket: equal in both, at random',
      candidates: [candidate('a', 1, 0), candidate('b', 1, 0), candidate('c', 1, 0)],
      websocket: true,
      random: [0.5],
      chosen: 'b',
      rule: 'fewest_connections',
    },
    {
      name: 'a trial candidate first, whatever its score',
      candidates: [candidate('a', 0.9), candidate('b', 0.1, 0, true), candidate('c', 0.2, 0, true)],
      websocket: false,
      random: [0],
      chosen: 'b',
      rule: 'trial',
    },
    {
      name: 'a trial candidate first for websocket leases too',
      candidates: [candidate('a', 0.9, 0), candidate('b', 0.1, 5, true)],
      websocket: true,
      random: [0],
      chosen: 'b',
      rule: 'trial',
    },
  ];
  for (const { name, candidates, websocket, random, chosen, rule } of cases) {
    test(name, () => {
      const choice = chooseProxy(candidates, websocket, draws(...random));
      assert.equal(choice?.candidate.proxyId ?? null, chosen);
      if (rule) assert.equal(choice?.rule, rule);
    });
  }

  test('power of two choices spreads leases: every candidate but the worst is chosen sometimes', () => {
    const candidates = [candidate('a', 0.9), candidate('b', 0.8), candidate('c', 0.7), candidate('d', 0.6)];
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const counts = new Map<string, number>();
    for (let i = 0; i < 1_200; i++) {
      const id = chooseProxy(candidates, false, random)?.candidate.proxyId ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // Pairs drawn uniformly: a wins 3 of 6 pairs, b 2, c 1, d none.
    assert.equal(counts.get('d'), undefined);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => counts.get(id) ?? 0) as [number, number, number];
    assert.ok(a > b && b > c && c > 100, `a ${a}, b ${b}, c ${c}`);
  });
});
