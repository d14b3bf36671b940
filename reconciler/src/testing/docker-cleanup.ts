import Docker from 'dockerode';

/** Removes the test's own containers: those whose name starts with `torfleet-<prefix>` (never anything else). */
export async function removeTestContainers(docker: Docker, prefix: string): Promise<void> {
  if (!prefix.startsWith('test-')) throw new Error(`test container prefixes start with "test-", not "${prefix}"`);
  const containers = await docker.listContainers({ all: true, filters: { name: [`torfleet-${prefix}`] } });
  await Promise.all(
    containers
      .filter((c) => c.Names.some((n) => n.startsWith(`/torfleet-${prefix}`)))
      .map((c) => docker.getContainer(c.Id).remove({ force: true })),
  );
}
