import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BROKER_HEALTH } from './health-settings.js';

test('broker health defaults: the numbers the README states (change both together)', () => {
  assert.deepEqual(DEFAULT_BROKER_HEALTH, {
    halfLifeMs: 300_000,
    priorSuccesses: 1,
    latencyScaleMs: 1_000,
    faultsToEject: 3,
    ejection: { baseCooldownMs: 30_000, maxCooldownMs: 600_000, jitterRatio: 0.2 },
    forgiveAfterMs: 600_000,
    trialLeases: 2,
    trialLeaseTimeoutMs: 60_000,
    block: { baseCooldownMs: 30_000, maxCooldownMs: 600_000, jitterRatio: 0.2 },
    exchangeProxies: 3,
    exchangeWindowMs: 120_000,
    maxExchanges: 10_000,
    maxBlocksPerExchange: 64,
    maxProxies: 10_000,
  });
});
