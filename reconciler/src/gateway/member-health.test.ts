import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_EJECTION, MemberHealth, memberKey } from './member-health.js';
import type { Member, TorMember } from './route-types.js';

const tor = (index: number): TorMember => ({
  kind: 'tor',
  id: `us-${index}`,
  pool: 'us',
  host: '127.0.0.1',
  port: 9050 + index,
});

/** A MemberHealth on a fake clock; `random` returns `jitter` (0: full cool-down, near 1: shortest). */
function setup(jitter = 0): { health: MemberHealth; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return {
    health: new MemberHealth(
      DEFAULT_EJECTION,
      () => clock.now,
      () => jitter,
    ),
    clock,
  };
}

const route = [tor(0), tor(1), tor(2), tor(3)];
const ejected = (health: MemberHealth, members: readonly Member[] = route): string[] =>
  [...health.ejected(members)].map((member) => member.id).sort();

describe('member-health: ejection after failures in a row', () => {
  const cases: { name: string; events: ('fail' | 'ok')[]; ejectedAfter: boolean }[] = [
    { name: 'two failures: still eligible', events: ['fail', 'fail'], ejectedAfter: false },
    { name: 'three failures in a row: ejected', events: ['fail', 'fail', 'fail'], ejectedAfter: true },
    {
      name: 'a success in between resets the count',
      events: ['fail', 'fail', 'ok', 'fail', 'fail'],
      ejectedAfter: false,
    },
    { name: 'a success after ejection forgets it', events: ['fail', 'fail', 'fail', 'ok'], ejectedAfter: false },
  ];
  for (const { name, events, ejectedAfter } of cases) {
    test(name, () => {
      const { health } = setup();
      for (const event of events) {
        if (event === 'fail') health.failure(tor(0));
        else health.success(tor(0));
      }
      assert.deepEqual(ejected(health), ejectedAfter ? ['us-0'] : []);
    });
  }
});

describe('member-health: cool-down 1 s doubling to 60 s, jittered, reset on success', () => {
  test('each ejection in a row doubles the cool-down up to 60 s; the member is back when it ends', () => {
    const { health, clock } = setup();
    const cooldowns: (number | null)[] = [health.failure(tor(0)), health.failure(tor(0))];
    for (let round = 0; round < 9; round++) {
      const cooldown = health.failure(tor(0));
      cooldowns.push(cooldown);
      assert.deepEqual(ejected(health), ['us-0']);
      clock.now += (cooldown ?? 0) - 1;
      assert.deepEqual(ejected(health), ['us-0'], 'still cooling down 1 ms before the end');
      clock.now += 1;
      assert.deepEqual(ejected(health), [], 'back once the cool-down is over');
    }
    assert.deepEqual(cooldowns, [null, null, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    health.success(tor(0));
    for (let i = 0; i < 2; i++) health.failure(tor(0));
    assert.equal(health.failure(tor(0)), 1_000, 'after a success the ladder starts again at 1 s');
  });

  const jitters: { random: number; cooldown: number }[] = [
    { random: 0, cooldown: 1_000 },
    { random: 0.5, cooldown: 900 },
    { random: 0.999, cooldown: 800 },
  ];
  for (const { random, cooldown } of jitters) {
    test(`jitter: random ${random} → ${cooldown} ms (at most 20 % shorter, never longer)`, () => {
      const { health } = setup(random);
      health.failure(tor(0));
      health.failure(tor(0));
      assert.equal(health.failure(tor(0)), cooldown);
    });
  }

  test('a failure while still cooling down (tried because of the half cap) does not escalate', () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++) health.failure(tor(0));
    clock.now += 500;
    assert.equal(health.failure(tor(0)), null);
    clock.now += 500;
    assert.equal(health.failure(tor(0)), 2_000, 'the next ejection, after the cool-down, doubles');
  });
});

describe('member-health: never more than half of a route ejected', () => {
  const cases: { name: string; members: number; failing: number[]; ejected: string[] }[] = [
    { name: 'a route of one is never ejected', members: 1, failing: [0], ejected: [] },
    { name: 'two members, both failing: one stays eligible', members: 2, failing: [0, 1], ejected: ['us-1'] },
    { name: 'four members, three failing: two ejected', members: 4, failing: [0, 1, 2], ejected: ['us-1', 'us-2'] },
    { name: 'four members, all failing: two ejected', members: 4, failing: [0, 1, 2, 3], ejected: ['us-2', 'us-3'] },
    { name: 'four members, one failing', members: 4, failing: [2], ejected: ['us-2'] },
  ];
  for (const { name, members, failing, ejected: expected } of cases) {
    test(`${name} (those whose cool-down ends last stay out)`, () => {
      const { health, clock } = setup();
      for (const index of failing) {
        for (let i = 0; i < 3; i++) health.failure(tor(index));
        clock.now += 10; // later ejections end later
      }
      assert.deepEqual(ejected(health, route.slice(0, members)), expected);
    });
  }
});

describe('memberKey: the same proxy at the same address across route table updates', () => {
  test('kind, id, host and port make the key', () => {
    const upstream: Member = {
      kind: 'upstream',
      id: 'us-0',
      protocol: 'http',
      host: '127.0.0.1',
      port: 9050,
      auth: null,
    };
    assert.equal(memberKey(tor(0)), memberKey({ ...tor(0) }));
    assert.notEqual(memberKey(tor(0)), memberKey(upstream));
    assert.notEqual(memberKey(tor(0)), memberKey({ ...tor(0), port: 9999 }));
  });

  test('a member rebuilt by a new route table keeps its ejection', () => {
    const { health } = setup();
    for (let i = 0; i < 3; i++) health.failure(tor(0));
    assert.deepEqual(ejected(health, [{ ...tor(0) }, tor(1)]), ['us-0']);
  });
});
