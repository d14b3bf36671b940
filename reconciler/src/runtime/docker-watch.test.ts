import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { containerName, DockerRuntime } from './docker-runtime.js';
import { LABEL, type RuntimeEvent } from './proxy-runtime.js';

/**
 * The Docker runtime reports its own events from the real engine: a container of this instance killed
 * behind its back is reported (kill, die) with its proxy; another instance's container is not.
 */
const docker = new Docker();
const ID = `test-rn-dw${process.pid.toString(36)}`;
const dir = tempDir('test-rn-dw');

/** A container with torfleet's labels running the image's tor with DisableNetwork 1 and no network at all. */
async function labelled(proxy: string, instance: string): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name: containerName(proxy),
    Image: 'torfleet/tor:0.4.9',
    Cmd: ['--defaults-torrc', '/dev/null', '-f', '/etc/tor/torrc', '--ignore-missing-torrc'].concat([
      '--DisableNetwork',
      '1',
      '--SocksPort',
      '0',
      '--DataDirectory',
      '/var/lib/tor',
    ]),
    Labels: {
      [LABEL.managed]: 'true',
      [LABEL.instance]: instance,
      [LABEL.pool]: ID,
      [LABEL.proxy]: proxy,
      [LABEL.specHash]: 'a1',
      [LABEL.revision]: 'r1',
      [LABEL.exits]: '',
    },
    HostConfig: { NetworkMode: 'none', Init: true },
  });
  await container.start();
  return container;
}

describe('docker runtime: watch', { concurrency: false, timeout: 60_000 }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
  });
  after(async () => {
    await removeTestContainers(docker, ID);
  });

  test('a container killed behind torfleet is reported with its proxy; another instance is not', async () => {
    const ours = await labelled(`${ID}-0`, ID);
    const theirs = await labelled(`${ID}-1`, `${ID}x`);
    const runtime = new DockerRuntime(docker, { stateDir: path.join(dir, 'state'), instance: ID });
    const events: RuntimeEvent[] = [];
    // Killed right after watch() is called: events from the moment of the call are asked for (since).
    const stop = runtime.watch((event) => events.push(event));
    try {
      await theirs.kill();
      await ours.kill();
      await waitFor('the die event', () => events.some((e) => e.action === 'die'), 20_000);
      assert.ok(
        events.every((e) => e.proxy === `${ID}-0`),
        JSON.stringify(events),
      );
      assert.ok(
        events.some((e) => e.action === 'kill'),
        JSON.stringify(events),
      );
    } finally {
      stop();
    }
  });
});
