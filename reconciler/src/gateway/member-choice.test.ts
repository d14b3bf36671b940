import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SESSIONS, MemberChoice } from './member-choice.js';
import type { Member, Route, TorMember } from './route-types.js';

const tor = (index: number): TorMember => ({
  kind: 'tor',
  id: `us-${index}`,
  pool: 'us',
  host: '127.0.0.1',
  port: 9050 + index,
});
const members = [tor(0), tor(1), tor(2)];
const route: Route = { name: 'us', kind: 'pool', members };
const ids = (list: readonly Member[]): string[] => list.map((member) => member.id);

function setup(settings = DEFAULT_SESSIONS): { choice: MemberChoice; clock: { now: number } } {
  const clock = { now: 0 };
  return { choice: new MemberChoice(settings, () => clock.now), clock };
}

describe('member-choice: round robin without a session', () => {
  test('each request starts at the next member; the rest follow as fallbacks', () => {
    const { choice } = setup();
    const orders = [0, 1, 2, 3].map(() => ids(choice.order(route, null, members)));
    assert.deepEqual(orders, [
      ['us-0', 'us-1', 'us-2'],
      ['us-1', 'us-2', 'us-0'],
      ['us-2', 'us-0', 'us-1'],
      ['us-0', 'us-1', 'us-2'],
    ]);
  });

  test('only the eligible members are offered; none eligible: nothing', () => {
    const { choice } = setup();
    assert.deepEqual(ids(choice.order(route, null, [tor(2)])), ['us-2']);
    assert.deepEqual(choice.order(route, null, []), []);
  });

  test('routes keep their own position', () => {
    const { choice } = setup();
    const other: Route = { ...route, name: 'geo-us' };
    choice.order(route, null, members);
    assert.deepEqual(ids(choice.order(other, null, members)).at(0), 'us-0');
    assert.deepEqual(ids(choice.order(route, null, members)).at(0), 'us-1');
  });
});

describe('member-choice: sticky sessions', () => {
  test('a session stays on the member that carried it, while used at least every 10 minutes', () => {
    const { choice, clock } = setup();
    choice.order(route, null, members);
    const first = choice.order(route, 'abc', members)[0] as Member;
    choice.remember(route, 'abc', first);
    for (let i = 0; i < 20; i++) {
      clock.now += 9 * 60_000;
      const order = choice.order(route, 'abc', members);
      assert.equal(order[0]?.id, first.id);
      assert.equal(order.length, 3, 'the others stay as fallbacks');
      choice.remember(route, 'abc', first);
    }
  });

  test('idle longer than 10 minutes: forgotten, the session may get another member', () => {
    const { choice, clock } = setup();
    choice.remember(route, 'abc', tor(2));
    clock.now += 10 * 60_000 + 1;
    assert.equal(choice.order(route, 'abc', members)[0]?.id, 'us-0', 'round robin again');
    assert.equal(choice.sessions, 0);
  });

  test('the sticky member not eligible (down, ejected, gone): the session moves to whoever carries it next', () => {
    const { choice } = setup();
    choice.remember(route, 'abc', tor(1));
    const order = choice.order(route, 'abc', [tor(0), tor(2)]);
    assert.deepEqual(ids(order), ['us-0', 'us-2']);
    choice.remember(route, 'abc', tor(2));
    assert.equal(choice.order(route, 'abc', members)[0]?.id, 'us-2', 'and stays there, even when us-1 is back');
  });

  test('the same session name on another route is another session', () => {
    const { choice } = setup();
    choice.remember(route, 'abc', tor(2));
    const other: Route = { ...route, name: 'geo-us' };
    assert.equal(choice.order(other, 'abc', members)[0]?.id, 'us-0');
  });

  test('at most maxSessions are kept: the least recently used is forgotten first', () => {
    const { choice, clock } = setup({ ...DEFAULT_SESSIONS, maxSessions: 3 });
    for (const session of ['a', 'b', 'c']) {
      clock.now += 1;
      choice.remember(route, session, tor(2));
    }
    clock.now += 1;
    choice.remember(route, 'a', tor(2)); // a is used again: b is now the oldest
    choice.remember(route, 'd', tor(2));
    assert.equal(choice.sessions, 3);
    assert.equal(choice.order(route, 'b', members)[0]?.id, 'us-0', 'b was forgotten');
    for (const session of ['a', 'c', 'd']) assert.equal(choice.order(route, session, members)[0]?.id, 'us-2');
  });

  test('expired sessions are swept as new ones arrive (the map does not grow with dead sessions)', () => {
    const { choice, clock } = setup();
    for (let i = 0; i < 1_000; i++) choice.remember(route, `s${i}`, tor(0));
    clock.now += 10 * 60_000 + 1;
    choice.remember(route, 'fresh', tor(1));
    assert.equal(choice.sessions, 1);
  });
});
