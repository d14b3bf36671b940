import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

/** The engine's swarm state: `inactive`, `active`, `pending`, `error`, `locked`. */
export async function swarmState(): Promise<string> {
  const { stdout } = await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
  return stdout.trim();
}

/**
 * A single-node swarm for a test file: made on 127.0.0.1 when the engine had none; `leave` ends only a swarm
 * this made, so the engine is left as found.
 */
export async function joinTestSwarm(): Promise<{ leave: () => Promise<void> }> {
  if ((await swarmState()) === 'active') return { leave: () => Promise.resolve() };
  await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  return {
    leave: async () => {
      await run('docker', ['swarm', 'leave', '--force']);
    },
  };
}

/**
 * Removes the test's own swarm objects: services, configs and volumes whose name starts with
 * `torfleet-<prefix>` (never anything else), the services first and their task containers awaited.
 */
export async function removeTestSwarmObjects(docker: Docker, prefix: string): Promise<void> {
  if (!prefix.startsWith('test-')) throw new Error(`test swarm prefixes start with "test-", not "${prefix}"`);
  const name = `torfleet-${prefix}`;
  const services = (await docker.listServices({ filters: { name: [name] } })).filter((s) =>
    s.Spec?.Name?.startsWith(name),
  );
  await Promise.all(services.map((s) => docker.getService(s.ID).remove()));
  for (let i = 0; i < 200; i++) {
    const containers = await docker.listContainers({ all: true, filters: { name: [name] } });
    if (!containers.some((c) => c.Names.some((n) => n.startsWith(`/${name}`)))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const configs = (await docker.listConfigs({ filters: { name: [name] } })).filter((c) =>
    c.Spec?.Name.startsWith(name),
  );
  await Promise.all(configs.map((c) => docker.getConfig(c.ID).remove()));
  const { Volumes: volumes } = await docker.listVolumes({ filters: { name: [name] } });
  for (const volume of volumes.filter((v) => v.Name.startsWith(name))) {
    for (let i = 0; ; i++) {
      try {
        await docker.getVolume(volume.Name).remove();
        break;
      } catch (error) {
        if (i > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}
