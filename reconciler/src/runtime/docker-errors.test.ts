import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Docker from 'dockerode';
import { TorfleetError } from '../errors.js';
import { computePlan } from '../plan/compute-plan.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { containerName, DockerRuntime } from './docker-runtime.js';

/** Against the real engine: the errors of preflight and create carry the disposition that decides the next step. */
const docker = new Docker();
const runtime = new DockerRuntime(docker, { stateDir: path.join(tempDir('dp-docker'), 'state'), instance: 'test-dp' });

function specWith(image: string): ProxySpec {
  const plan = computePlan({
    fleet: testFleet([testPool('test-dp', { count: 1, basePort: 20600 })], { image }),
    revision: 'r1',
    exits: [
      { fingerprint: 'A'.repeat(40), nickname: 'e', address: '198.51.1.1', country: 'US', network: '198.51.0.0/16' },
    ],
    observed: [],
    containerShape: 's',
  });
  const spec = plan.changes[0]?.after;
  assert.ok(spec);
  return spec;
}

const typed = (code: string, disposition: string, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof TorfleetError, String(error));
  assert.deepEqual([error.code, error.disposition], [code, disposition]);
  assert.match(error.message, message);
  return true;
};

describe('docker runtime: typed preflight and create errors (real engine)', { concurrency: false }, () => {
  const foreign = containerName('test-dp-0');
  after(async () => {
    await docker
      .getContainer(foreign)
      .remove({ force: true })
      .catch(() => undefined);
  });

  test('a missing image: IMAGE_MISSING, stalled (a human runs make image)', async () => {
    await assert.rejects(
      runtime.preflight(specWith('torfleet/tor:0.0.0-missing')),
      typed('IMAGE_MISSING', 'stalled', /torfleet\/tor:0\.0\.0-missing is not on this Docker engine.*"make image"/),
    );
  });

  test('a container of that name torfleet did not make: RUNTIME_CONFLICT, stalled', async () => {
    const spec = specWith('torfleet/tor:0.4.9');
    await runtime.preflight(spec);
    await docker.createContainer({ name: foreign, Image: 'torfleet/tor:0.4.9', Labels: {} });
    await assert.rejects(
      runtime.create(spec, 'SocksPort 127.0.0.1:20600\nDisableNetwork 1\n', 'r1'),
      typed('RUNTIME_CONFLICT', 'stalled', /already exists and torfleet did not make it/),
    );
  });
});
