import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cancel, linkedCancel } from './cancel.js';

describe('Cancel', () => {
  test('cancels once: the first reason stays, listeners run once in the order added', () => {
    const cancel = new Cancel();
    const calls: string[] = [];
    cancel.onCancel((reason) => calls.push(`a:${String(reason)}`));
    cancel.onCancel((reason) => calls.push(`b:${String(reason)}`));
    assert.equal(cancel.cancelled, false);
    assert.equal(cancel.reason, undefined);
    cancel.cancel('first');
    cancel.cancel('second');
    assert.equal(cancel.cancelled, true);
    assert.equal(cancel.reason, 'first');
    assert.deepEqual(calls, ['a:first', 'b:first']);
  });

  test('a listener added after the cancel runs at once with the reason', () => {
    const cancel = new Cancel();
    cancel.cancel(7);
    let seen: unknown = null;
    const takeBack = cancel.onCancel((reason) => (seen = reason));
    assert.equal(seen, 7);
    takeBack(); // harmless
  });

  test('a listener taken back does not run; the same function added twice is taken back once', () => {
    const cancel = new Cancel();
    let runs = 0;
    const listener = (): void => {
      runs++;
    };
    const first = cancel.onCancel(listener);
    cancel.onCancel(listener);
    const gone = cancel.onCancel(() => assert.fail('taken back'));
    gone();
    first();
    cancel.cancel();
    assert.equal(runs, 1);
  });

  test('a listener that takes itself and others back while running keeps it from running', () => {
    const cancel = new Cancel();
    const calls: number[] = [];
    let second = (): void => undefined;
    cancel.onCancel(() => {
      calls.push(1);
      second();
    });
    second = cancel.onCancel(() => calls.push(2));
    cancel.cancel();
    // As with EventTarget: a listener taken back during the round does not run.
    assert.deepEqual(calls, [1]);
  });
});

describe('linkedCancel', () => {
  const cases: ReadonlyArray<{
    name: string;
    run: (parent: Cancel, link: ReturnType<typeof linkedCancel>) => void;
    parent: boolean;
    child: boolean;
  }> = [
    {
      name: 'the parent cancels: the child follows',
      run: (parent) => {
        parent.cancel('stop');
      },
      parent: true,
      child: true,
    },
    {
      name: 'the child cancels alone: the parent does not',
      run: (_parent, link) => {
        link.cancel.cancel();
      },
      parent: false,
      child: true,
    },
    {
      name: 'unlinked, then the parent cancels: the child stays',
      run: (parent, link) => {
        link.unlink();
        parent.cancel();
      },
      parent: true,
      child: false,
    },
  ];
  for (const { name, run, parent: parentCancelled, child: childCancelled } of cases) {
    test(name, () => {
      const parent = new Cancel();
      const link = linkedCancel(parent);
      run(parent, link);
      assert.equal(parent.cancelled, parentCancelled);
      assert.equal(link.cancel.cancelled, childCancelled);
      if (childCancelled && parentCancelled) assert.equal(link.cancel.reason, parent.reason);
    });
  }

  test('a child of a cancelled parent starts cancelled', () => {
    const parent = new Cancel();
    parent.cancel('gone');
    const link = linkedCancel(parent);
    assert.equal(link.cancel.cancelled, true);
    assert.equal(link.cancel.reason, 'gone');
  });
});
