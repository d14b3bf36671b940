import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { TorfleetError } from '../errors.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { runTorfleet } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { DockerRuntime } from './docker-runtime.js';

/**
 * Issue 8 item 7: a Docker engine that accepts connections and never answers must not hang `apply`. A real
 * unix socket that reads every request and replies nothing stands in for it.
 */
const dir = tempDir('rtdeadline');
const socketPath = path.join(dir, 'docker.sock');
const sockets = new Set<Socket>();
let server: Server;

const expectWaiting = (operation: RegExp) => (error: unknown) => {
  assert.ok(error instanceof TorfleetError, String(error));
  assert.equal(error.code, 'RUNTIME');
  assert.equal(error.disposition, 'waiting');
  assert.match(error.message, operation);
  assert.ok(error.message.includes(`unix://${socketPath}`), error.message);
  assert.match(error.message, /TORFLEET_RUNTIME_TIMEOUT/);
  return true;
};

describe('docker runtime: every engine call has a deadline', { concurrency: false, timeout: 120_000 }, () => {
  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined); // read, never reply
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const runtime = (): DockerRuntime =>
    new DockerRuntime(new Docker({ socketPath }), { stateDir: path.join(dir, 'state'), instance: 'x', timeoutMs: 300 });

  test('list ends in a typed waiting error naming the operation and the socket', async () => {
    await assert.rejects(runtime().list(), expectWaiting(/no answer to "list containers"/));
  });

  test('preflight (the image check) too', async () => {
    await assert.rejects(
      runtime().preflight({ tor: { image: 'torfleet/tor:0.4.9' } } as Parameters<DockerRuntime['preflight']>[0]),
      expectWaiting(/no answer to "inspect image torfleet\/tor:0\.4\.9"/),
    );
  });

  test('remove too', async () => {
    const proxy = {
      name: 'us-0',
      pool: 'us',
      id: 'abc',
      state: 'running' as const,
      specHash: '',
      exitFingerprints: [],
      revision: '',
      startedAt: null,
    };
    await assert.rejects(
      runtime().remove(proxy, { forget: false }),
      expectWaiting(/no answer to "inspect container abc"/),
    );
  });

  test('torfleet apply against it exits 1 with that error instead of hanging', async () => {
    const fleetFile = path.join(dir, 'fleet.yaml');
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    writeFileSync(fleetFile, 'apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools: []\n');
    const env = {
      DOCKER_HOST: `unix://${socketPath}`,
      TORFLEET_RUNTIME_TIMEOUT: '1s',
      TORFLEET_INSTANCE: 'test-rtdeadline',
      TORFLEET_DB: path.join(dir, 'nodes.db'),
      TORFLEET_STATE_DIR: path.join(dir, 'state'),
      TORFLEET_FLEET_FILE: fleetFile,
      TORFLEET_NODE_SOURCE: 'consensus',
      TORFLEET_CONSENSUS_URL: sharedConsensusFile,
      TORFLEET_GEOIP_FILE: sharedGeoIpFile,
    };
    assert.equal((await runTorfleet(['nodes', 'refresh'], env)).code, 0);
    const applied = await runTorfleet(['apply'], env);
    assert.equal(applied.code, 1, applied.stderr);
    assert.match(
      applied.stderr,
      new RegExp(`torfleet: docker: no answer to "list containers" from unix://${socketPath} within 1 s`),
    );
  });
});
