import type Docker from 'dockerode';
import type { Logger } from '../logger.js';
import { LABEL } from './proxy-runtime.js';
import type { EngineCall } from './swarm-configs.js';
import { volumeName } from './swarm-service-spec.js';
import { statusOf } from './docker-engine.js';

/** How long a removed service's task container may take to go (its stop grace period is 5 s). */
const IN_USE_WAIT_MS = 20_000;
const RETRY_MS = 250;

/**
 * Deletes a proxy's data volume on this engine, once the task container that used it is gone, and only when
 * the volume carries the proxy's labels. Volumes are per node: those the proxy left on other nodes stay
 * there (README: `docker volume prune --filter label=torfleet.instance=...` on each node).
 */
export async function removeProxyVolume(
  docker: Docker,
  instance: string,
  proxy: string,
  call: EngineCall,
  log: Logger,
): Promise<void> {
  const name = volumeName(proxy);
  const volume = docker.getVolume(name);
  let labels: Readonly<Record<string, string>> | null;
  try {
    labels = (await call(`inspect volume ${name}`, (abortSignal) => volume.inspect({ abortSignal }))).Labels;
  } catch (error) {
    if (statusOf(error) === 404) return;
    throw error;
  }
  // Docker sends null for a volume without labels, whatever its types say.
  labels ??= {};
  if (labels[LABEL.managed] !== 'true' || labels[LABEL.instance] !== instance || labels[LABEL.proxy] !== proxy) {
    log.warn('leaving a volume with the name of a proxy but not its labels', { proxy, volume: name });
    return;
  }
  const deadline = Date.now() + IN_USE_WAIT_MS;
  for (;;) {
    try {
      await call(`remove volume ${name}`, (abortSignal) => volume.remove({ abortSignal }));
      log.info('proxy data volume removed', { proxy, volume: name });
      return;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return;
      if (status !== 409 || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
