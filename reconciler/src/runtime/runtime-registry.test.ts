import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { readSettings } from '../settings.js';
import { RUNTIME_NAMES, RUNTIMES } from './runtime-registry.js';

test('TORFLEET_RUNTIME: every registered runtime is accepted; another is refused with the known names', () => {
  for (const name of RUNTIME_NAMES) assert.equal(readSettings({ TORFLEET_RUNTIME: name }).runtime, name);
  assert.equal(readSettings({}).runtime, 'docker');
  assert.throws(
    () => readSettings({ TORFLEET_RUNTIME: 'kubernetes' }),
    (error) =>
      error instanceof ConfigError &&
      error.message === 'TORFLEET_RUNTIME is "kubernetes"; use one of docker, process, swarm' &&
      error.code === 'CONFIG_INVALID',
  );
  assert.throws(() => readSettings({ TORFLEET_RUNTIME: 'toString' }), ConfigError);
});

test('each registry entry builds the runtime of its name', () => {
  const options = { stateDir: '/nonexistent', instance: 'test-rn', log: silentLogger, timeoutMs: 1000 };
  for (const name of RUNTIME_NAMES) assert.equal(RUNTIMES[name](options).name, name);
});
