import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { ConfigError } from '../errors.js';
import { buildSpec } from '../plan/compute-plan.js';
import { testPool, TEST_TOR } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { SwarmRuntime } from './swarm-runtime.js';

/**
 * Preflight and list on engines that cannot run services, from a real HTTP server on a unix socket standing
 * in for the engine (this machine's engine must not leave or join a swarm for it): a clear ConfigError
 * naming `docker swarm init`, or a manager to talk to.
 */
const socketPath = path.join(tempDir('test-swarm-preflight'), 'docker.sock');
let swarm: Record<string, unknown> = {};
let server: Server;
const spec = buildSpec(
  testPool('us'),
  0,
  { fingerprints: [], addresses: [], countries: ['us'], network: null },
  TEST_TOR,
  'd',
);
const runtime = (): SwarmRuntime =>
  new SwarmRuntime(new Docker({ socketPath }), { stateDir: '/x', instance: 'test-sp' });

describe('swarm preflight', () => {
  before(async () => {
    server = createServer((request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify(request.url?.includes('/info') ? { DockerRootDir: '/srv/docker', Swarm: swarm } : {}),
      );
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test('no swarm: docker swarm init', async () => {
    swarm = { LocalNodeState: 'inactive', ControlAvailable: false };
    for (const call of [() => runtime().preflight(spec), () => runtime().list()]) {
      await assert.rejects(
        call,
        (error) =>
          error instanceof ConfigError &&
          error.message.startsWith('TORFLEET_RUNTIME=swarm needs a swarm: docker swarm init') &&
          error.message.includes(`unix://${socketPath}`) &&
          error.message.endsWith('is in swarm state "inactive"'),
      );
    }
  });

  test('a worker: a manager is needed', async () => {
    swarm = { LocalNodeState: 'active', ControlAvailable: false };
    await assert.rejects(
      () => runtime().preflight(spec),
      (error) =>
        error instanceof ConfigError &&
        /needs a swarm manager: .* is a worker; point DOCKER_HOST at a manager/.test(error.message),
    );
  });

  test("a manager: the image is checked next; volumes are under the engine's root", async () => {
    swarm = { LocalNodeState: 'active', ControlAvailable: true };
    const manager = runtime();
    await manager.preflight(spec);
    assert.equal(manager.hostDataDirectory('us-0'), '/srv/docker/volumes/torfleet-us-0/_data');
    assert.throws(() => manager.hostDataDirectory('../etc'), /refusing proxy name/);
  });
});
