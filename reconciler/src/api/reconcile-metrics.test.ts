import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { ApplyResult } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import type { NodeStats } from '../nodes/node-stats.js';
import { computePlan } from '../plan/compute-plan.js';
import { Controller } from '../reconcile/controller.js';
import { schemaErrors } from '../testing/api-schemas.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { TorfleetMetrics } from './metrics.js';

const run = promisify(execFile);
const STATS: NodeStats = {
  exits: { US: 1, NON_US: 0 },
  relays: 1,
  relaysPublished: '2026-12-01T00:00:00.000Z',
  refreshedAt: '2026-12-01T00:00:00.000Z',
  stale: false,
};

/** One pass whose only change fails because the tor image is missing (stalled). */
async function stalledController(): Promise<Controller> {
  const plan = computePlan({
    fleet: testFleet([testPool('us', { count: 1 })]),
    revision: 'r1',
    exits: [
      { fingerprint: 'A'.repeat(40), nickname: 'e', address: '198.51.1.1', country: 'US', network: '198.51.0.0/16' },
    ],
    observed: [],
    containerShape: 's',
  });
  const change = plan.changes[0];
  assert.ok(change);
  const error = new TorfleetError(
    'IMAGE_MISSING',
    'stalled',
    'the tor image torfleet/tor:0.4.9 is not on this Docker engine',
  );
  const result: ApplyResult = {
    done: [],
    failures: [{ change, error: { code: error.code, disposition: error.disposition, message: error.message } }],
    created: [],
  };
  const controller = new Controller({ pass: () => Promise.resolve({ plan, result }) });
  controller.enqueue('commit');
  await controller.idle();
  return controller;
}

test('a stalled pass shows in /status (schema-valid) and in the metrics: condition, reason, failure code', async () => {
  const controller = await stalledController();
  const metrics = new TorfleetMetrics(
    {
      status: () => controller.getStatus(),
      lastPlan: () => controller.lastPlan(),
      fleetPools: () => [],
      observed: () => Promise.resolve([]),
      nodeStats: () => STATS,
      egress: () => null,
      quarantinedExits: () => 0,
    },
    ['/status'],
  );
  for (const record of controller.getStatus().passes) metrics.observePass(record);
  // The status as GET /status answers it (its node part is another test's).
  const nodes = { error: { code: 'not_in_this_test', message: 'the node part is tested in api-server.test' } };
  assert.deepEqual(schemaErrors('status', { ...controller.getStatus(), nodes }), []);

  const text = await metrics.registry.metrics();
  for (const series of [
    'torfleet_reconcile_condition{type="Stalled",status="True",reason="ImageMissing"} 1',
    'torfleet_reconcile_condition{type="Ready",status="False",reason="ImageMissing"} 1',
    'torfleet_reconcile_condition{type="Ready",status="True",reason="Succeeded"} 0',
    'torfleet_change_failures_total{code="IMAGE_MISSING"} 1',
    'torfleet_change_failures_total{code="TORRC_INVALID"} 0',
    'torfleet_change_failures_total{code="OTHER"} 0',
    'torfleet_reconcile_total{result="stalled"} 1',
  ]) {
    assert.ok(text.includes(series), `missing ${series}`);
  }
  const child = run('promtool', ['check', 'metrics']);
  child.child.stdin?.end(text);
  const { stdout, stderr } = await child;
  assert.equal(`${stdout}${stderr}`.trim(), '');
});
