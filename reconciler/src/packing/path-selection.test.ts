import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseExit, chooseGuards, choosePath, compatible } from './path-selection.js';
import type { Relay } from './relay-list.js';

const fp = (n: number): string => n.toString(16).toUpperCase().padStart(40, '0');
function relay(n: number, address: string, flags: string, family: number[] = []): Relay {
  return {
    fingerprint: fp(n),
    nickname: `r${n}`,
    address,
    orPort: 9001,
    flags: new Set(flags.split(' ')),
    bandwidth: 100,
    family: new Set(family.map(fp)),
  };
}
const index = (relays: Relay[]): Map<string, Relay> => new Map(relays.map((r) => [r.fingerprint, r]));
/** A deterministic random: cycles through `values`. */
const cycle = (...values: number[]): (() => number) => {
  let at = 0;
  return () => values[at++ % values.length] ?? 0;
};
const PUBLIC = { testingNetwork: false };
const TESTING = { testingNetwork: true };

describe('path selection', () => {
  const relays = index([
    relay(1, '10.1.0.1', 'Guard Running Valid'),
    relay(2, '10.2.0.1', 'Guard Running Valid'),
    relay(3, '10.3.0.1', 'Guard Running Valid Exit'),
    relay(4, '10.4.0.1', 'Running Valid'),
    relay(5, '10.5.0.1', 'Running Valid Exit', [6]),
    relay(6, '10.6.0.1', 'Running Valid', [5]),
    relay(7, '10.5.9.9', 'Running Valid'), // the /16 of exit 5
    relay(8, '10.8.0.1', 'Guard Valid'), // not Running
  ]);

  test('guards: kept while usable, topped up with non-exit Guard relays, never one not Running', () => {
    const cases: [string, string[], number, string[]][] = [
      ['fresh', [], 2, [fp(1), fp(2)]],
      ['kept in order', [fp(2), fp(1)], 2, [fp(2), fp(1)]],
      ['a gone guard replaced', [fp(99), fp(2)], 2, [fp(2), fp(1)]],
      ['not Running is dropped', [fp(8)], 1, [fp(1)]],
      ['falls back to exits with the Guard flag', [], 3, [fp(1), fp(2), fp(3)]],
    ];
    for (const [name, current, count, expected] of cases) {
      assert.deepEqual(chooseGuards(relays, current, PUBLIC, cycle(0), count).sort(), [...expected].sort(), name);
    }
    assert.deepEqual(chooseGuards(relays, [fp(2), fp(1)], PUBLIC, cycle(0.9), 2), [fp(2), fp(1)], 'order kept');
  });

  test('paths: never the exit or the guard as middle, never its family or /16, except /16 on a testing network', () => {
    for (let i = 0; i < 50; i++) {
      const random = cycle(i / 50);
      const path = choosePath(relays, [fp(1), fp(2)], fp(5), PUBLIC, random);
      assert.ok(path.ok);
      assert.equal(path.guard, fp(1));
      assert.ok(![fp(1), fp(5), fp(6), fp(7), fp(8)].includes(path.middle), `middle ${path.middle}`);
      assert.ok(!relays.get(path.middle)?.flags.has('Exit'), 'a non-exit middle while there are any');
    }
    const middles = new Set(
      Array.from({ length: 50 }, (_, i) => {
        const path = choosePath(relays, [fp(1)], fp(5), TESTING, cycle(i / 50));
        return path.ok ? path.middle : '';
      }),
    );
    assert.ok(middles.has(fp(7)), 'on a testing network the /16 of the exit is allowed');
    assert.ok(!middles.has(fp(6)), 'the family never');
  });

  test('paths: a guard that is the exit or shares its /16 is skipped for the next', () => {
    const path = choosePath(relays, [fp(3), fp(2)], fp(3), PUBLIC, cycle(0));
    assert.ok(path.ok && path.guard === fp(2));
    const near = index([...relays.values(), relay(9, '10.2.5.5', 'Running Valid Exit')]);
    const far = choosePath(near, [fp(2), fp(1)], fp(9), PUBLIC, cycle(0));
    assert.ok(far.ok && far.guard === fp(1));
  });

  test('paths: clear problems when no path exists', () => {
    const cases: [string, ReturnType<typeof choosePath>, RegExp][] = [
      ['unknown exit', choosePath(relays, [fp(1)], fp(77), PUBLIC, cycle(0)), /is not in tor's consensus/],
      ['exit not running', choosePath(relays, [fp(1)], fp(8), PUBLIC, cycle(0)), /is not Running/],
      ['no guard fits', choosePath(relays, [fp(5)], fp(5), PUBLIC, cycle(0)), /none of the guards/],
      [
        'no middle fits',
        choosePath(
          index([relay(1, '1.1.1.1', 'Guard Running Valid'), relay(2, '2.2.2.2', 'Running Valid Exit')]),
          [fp(1)],
          fp(2),
          PUBLIC,
          cycle(0),
        ),
        /no middle relay/,
      ],
    ];
    for (const [name, path, problem] of cases) {
      assert.ok(!path.ok, name);
      assert.match(path.problem, problem, name);
    }
  });

  test('exits: sticky, rotating to another, avoiding a failed one, none when none runs', () => {
    const allowed = [fp(3), fp(5), fp(8)];
    const none = new Set<string>();
    const cases: [string, string | null, boolean, Set<string>, string | null][] = [
      ['sticky', fp(5), false, none, fp(5)],
      ['first pick', null, false, none, fp(3)],
      ['rotate to another', fp(3), true, none, fp(5)],
      ['avoid the failed one', fp(5), false, new Set([fp(5)]), fp(3)],
      ['the not Running one never', fp(8), false, none, fp(3)],
    ];
    for (const [name, current, rotate, avoid, expected] of cases) {
      assert.equal(chooseExit(relays, allowed, current, { rotate, avoid }, cycle(0)), expected, name);
    }
    assert.equal(chooseExit(relays, [fp(8), fp(77)], null, { rotate: false, avoid: none }, cycle(0)), null);
    assert.equal(chooseExit(relays, [fp(5)], fp(5), { rotate: true, avoid: none }, cycle(0)), fp(5), 'a single exit');
  });

  test('compatibility: a family needs both sides', () => {
    const a = relay(1, '1.1.0.1', 'Running', [2]);
    const b = relay(2, '2.2.0.1', 'Running');
    assert.equal(compatible(a, b, PUBLIC), true);
    assert.equal(compatible(a, { ...b, family: new Set([fp(1)]) }, PUBLIC), false);
    assert.equal(compatible(a, a, TESTING), false);
  });
});
