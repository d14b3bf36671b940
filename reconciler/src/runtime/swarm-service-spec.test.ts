import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { buildSpec } from '../plan/compute-plan.js';
import { testPool, TEST_TOR } from '../testing/fleet-fixtures.js';
import { configName, serviceShapeOf, swarmServiceSpec } from './swarm-service-spec.js';

const spec = buildSpec(
  testPool('us', { basePort: 31100, placement: { constraints: ['node.labels.region==us'] } }),
  3,
  { fingerprints: ['B'.repeat(40)], addresses: ['192.0.2.2'], countries: ['us'], network: null },
  { ...TEST_TOR, geoipFile: '/usr/share/tor/geoip' },
  'digest',
);

test('a proxy service: its name, one replica on host networking, restart, memory, labels, config, volume, constraints', () => {
  const service = swarmServiceSpec({
    spec,
    instance: 'prod',
    revision: 'r7',
    config: { name: configName(spec.name, spec.specHash), id: 'cfg' },
    memoryLimitMb: 128,
  });
  const task = service.TaskTemplate as Docker.ContainerTaskSpec;
  assert.equal(service.Name, 'torfleet-us-3');
  assert.deepEqual(service.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(task.Networks, [{ Target: 'host' }]);
  assert.equal(task.RestartPolicy?.Condition, 'any');
  assert.equal(task.Resources?.Limits?.MemoryBytes, 128 * 1024 * 1024);
  assert.deepEqual(task.Placement?.Constraints, ['node.labels.region==us']);
  assert.equal(service.UpdateConfig?.Order, 'stop-first');
  assert.equal(service.Labels?.['torfleet.managed'], 'true');
  assert.equal(service.Labels['torfleet.instance'], 'prod');
  assert.equal(service.Labels['torfleet.spec-hash'], spec.specHash);
  assert.equal(service.Labels['torfleet.swarm-shape'], serviceShapeOf(service));
  assert.deepEqual(task.ContainerSpec?.Labels, { 'torfleet.swarm-instance': 'prod', 'torfleet.proxy': 'us-3' });
  assert.deepEqual(
    task.ContainerSpec.Configs?.map((c) => [c.ConfigName, c.File?.Name]),
    [[`torfleet-us-3-${spec.specHash.slice(0, 12)}`, '/etc/tor/torrc']],
  );
  assert.deepEqual(
    task.ContainerSpec.Mounts?.map((m) => [m.Type, m.Source, m.Target]),
    [
      ['volume', 'torfleet-us-3', '/var/lib/tor'],
      ['bind', '/usr/share/tor/geoip', '/etc/torfleet/geoip'],
    ],
  );
});

test('config names stay within the 64 characters Swarm allows, for the longest proxy name', () => {
  assert.ok(configName(`${'p'.repeat(31)}-9999`, 'f'.repeat(20)).length <= 64);
});
