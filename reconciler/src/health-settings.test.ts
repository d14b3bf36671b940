import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readSettings } from './settings.js';

/** The health settings of `run`: defaults, and a clear error naming the variable and the fix. */
describe('health settings', () => {
  test('defaults: checks every 15s, a bootstrap stuck for 5 minutes is restarted, at most 3 times an hour', () => {
    const settings = readSettings({});
    assert.deepEqual(
      [settings.healthIntervalMs, settings.bootstrapTimeoutMs, settings.bootstrapRestartsPerHour],
      [15_000, 300_000, 3],
    );
  });

  test('set from the environment; 0 restarts turns restarting off', () => {
    const settings = readSettings({
      TORFLEET_HEALTH_INTERVAL: '2s',
      TORFLEET_BOOTSTRAP_TIMEOUT: '10m',
      TORFLEET_BOOTSTRAP_RESTARTS: '0',
    });
    assert.deepEqual(
      [settings.healthIntervalMs, settings.bootstrapTimeoutMs, settings.bootstrapRestartsPerHour],
      [2000, 600_000, 0],
    );
  });

  const BAD: [Record<string, string>, RegExp][] = [
    [{ TORFLEET_BOOTSTRAP_TIMEOUT: '5' }, /TORFLEET_BOOTSTRAP_TIMEOUT is "5"; use a duration such as 90s/],
    [{ TORFLEET_HEALTH_INTERVAL: '0s' }, /TORFLEET_HEALTH_INTERVAL is "0s"; use a duration/],
    [
      { TORFLEET_BOOTSTRAP_RESTARTS: 'three' },
      /TORFLEET_BOOTSTRAP_RESTARTS is "three"; use a whole number from 0 to 100$/,
    ],
    [{ TORFLEET_BOOTSTRAP_RESTARTS: '-1' }, /use a whole number from 0 to 100/],
    [{ TORFLEET_BOOTSTRAP_RESTARTS: '101' }, /use a whole number from 0 to 100/],
  ];
  for (const [env, message] of BAD) {
    test(`refused: ${JSON.stringify(env)}`, () => {
      assert.throws(() => readSettings(env), message);
    });
  }
});
