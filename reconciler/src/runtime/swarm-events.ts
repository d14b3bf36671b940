import type Docker from 'dockerode';
import type { Logger } from '../logger.js';
import { followDockerEvents } from './docker-events.js';
import type { RuntimeEvent } from './proxy-runtime.js';
import { SWARM_LABEL } from './swarm-service-spec.js';

/**
 * What makes a swarm fleet worth another look: a service of torfleet's created, updated or removed (by
 * anyone, cluster-wide), a node's state or labels changed (lost, drained, relabelled), and on this node a
 * task container of this instance that died. Swarm has no task events: a task failing on another node is
 * seen by Swarm's own restart and the next resync. Each stream is followed across engine restarts.
 */
export function watchSwarmEvents(
  docker: Docker,
  instance: string,
  onEvent: (event: RuntimeEvent) => void,
  log: Logger,
): () => void {
  const stops = [
    followDockerEvents(
      docker,
      {
        type: ['container'],
        event: ['die', 'destroy', 'kill', 'oom', 'stop'],
        label: [`${SWARM_LABEL.taskInstance}=${instance}`],
      },
      onEvent,
      log,
    ),
    // Service events name the service, not its labels: another instance's (or anyone's) `torfleet-*` service
    // causes one more pass at most.
    followDockerEvents(
      docker,
      { type: ['service'] },
      (event) => {
        if (event.proxy !== null) onEvent(event);
      },
      log,
    ),
    followDockerEvents(docker, { type: ['node'] }, onEvent, log),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
