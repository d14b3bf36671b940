import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIssue } from './fleet-issue.js';
import { load, testBadCases, type BadCase } from './gateway-section-fixture.js';

/** One pool `us` (lines 4-8, `mode` at 6:11) and, from line 9, its further keys at column 5. */
const pool = (mode: string, ...lines: string[]): string => `apiVersion: torfleet/v1
kind: Fleet
pools:
  - name: us
    geo: US
    mode: ${mode}
    count: 5
    basePort: 19050
${lines.map((line) => `    ${line}\n`).join('')}`;
const packed = (...lines: string[]): string => pool('strict', ...lines);

describe('fleet.yaml packing: bad values are located and say how to fix them', () => {
  const BAD: readonly BadCase[] = [
    {
      name: 'proxiesPerTor 0',
      text: packed('packing: {proxiesPerTor: 0}'),
      path: 'pools[0].packing.proxiesPerTor',
      at: [9, 30],
      says: '0 is below the minimum 1',
    },
    {
      name: 'proxiesPerTor above 1000',
      text: packed('packing:', '  proxiesPerTor: 1001'),
      path: 'pools[0].packing.proxiesPerTor',
      at: [10, 22],
      says: '1001 is above the maximum 1000',
    },
    {
      name: 'proxiesPerTor not a whole number',
      text: packed('packing: {proxiesPerTor: 2.5}'),
      path: 'pools[0].packing.proxiesPerTor',
      at: [9, 30],
      says: 'expected a whole number, got the number 2.5',
    },
    {
      name: 'proxiesPerTor as a string',
      text: packed('packing: {proxiesPerTor: "10"}'),
      path: 'pools[0].packing.proxiesPerTor',
      at: [9, 30],
      says: 'expected a whole number, got string "10"',
    },
    {
      name: 'packing without proxiesPerTor',
      text: packed('packing: {}'),
      path: 'pools[0].packing',
      at: [9, 14],
      says: 'missing required key "proxiesPerTor" (how many proxies one shared tor serves at most (1 to 1000))',
    },
    {
      name: 'a misspelt proxiesPerTor',
      text: packed('packing: {proxiesPertor: 10}'),
      path: 'pools[0].packing.proxiesPertor',
      at: [9, 15],
      says: 'did you mean "proxiesPerTor"?',
    },
    {
      name: 'a key packing does not have',
      text: packed('packing: {proxiesPerTor: 10, tors: 2}'),
      path: 'pools[0].packing.tors',
      at: [9, 34],
      says: 'unknown key "tors"; allowed keys: proxiesPerTor',
    },
    {
      name: 'packing as a number',
      text: packed('packing: 10'),
      path: 'pools[0].packing',
      at: [9, 14],
      says: 'expected a mapping, got the number 10',
    },
    {
      name: 'packing left empty (null)',
      text: packed('packing:'),
      path: 'pools[0].packing',
      at: [9, 13],
      says: 'expected a mapping, got null',
    },
    {
      name: 'a misspelt packing',
      text: packed('packin: {proxiesPerTor: 10}'),
      path: 'pools[0].packin',
      at: [9, 5],
      says: 'did you mean "packing"?',
    },
  ];
  testBadCases(BAD);
});

describe('fleet.yaml packing: good values load', () => {
  const GOOD: readonly { name: string; text: string; packing: { proxiesPerTor: number } | null }[] = [
    { name: 'absent: not packed, as before', text: packed(), packing: null },
    { name: 'a strict pool', text: packed('packing: {proxiesPerTor: 100}'), packing: { proxiesPerTor: 100 } },
    { name: 'the most per tor', text: packed('packing: {proxiesPerTor: 1000}'), packing: { proxiesPerTor: 1000 } },
    {
      name: 'more per tor than the pool has proxies (room to scale)',
      text: packed('packing: {proxiesPerTor: 50}'),
      packing: { proxiesPerTor: 50 },
    },
    {
      name: 'a flexible pool',
      text: pool('flexible', 'packing: {proxiesPerTor: 2}'),
      packing: { proxiesPerTor: 2 },
    },
    {
      name: 'a rotating pool (it rotates by new circuits)',
      text: pool('rotating', 'rotateEvery: 5m', 'packing: {proxiesPerTor: 3}'),
      packing: { proxiesPerTor: 3 },
    },
  ];
  for (const good of GOOD) {
    test(good.name, () => {
      const { fleet, warnings } = load(good.text);
      assert.deepEqual(fleet.pools[0]?.packing, good.packing);
      assert.deepEqual(warnings.map(formatIssue), []);
    });
  }
  test('proxiesPerTor 1 loads, with a warning that it saves nothing', () => {
    const { fleet, warnings } = load(packed('packing: {proxiesPerTor: 1}'));
    assert.deepEqual(fleet.pools[0]?.packing, { proxiesPerTor: 1 });
    assert.deepEqual(warnings.map(formatIssue), [
      'fleet.yaml:9:30: pools[0].packing.proxiesPerTor: proxiesPerTor 1 runs one tor per proxy, as many as without packing, plus a controller for each; raise proxiesPerTor to share a tor, or remove packing',
    ]);
  });
});
