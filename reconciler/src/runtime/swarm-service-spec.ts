import type Docker from 'dockerode';
import type { ProxySpec } from '../plan/plan-types.js';
import { specHashOf } from '../plan/spec-hash.js';
import { containerName } from './docker-runtime.js';
import { LABEL, proxyLabels } from './proxy-runtime.js';

/** Labels only the swarm runtime sets, beside proxyLabels. */
export const SWARM_LABEL = {
  /**
   * The digest of the service spec torfleet wrote (serviceShapeOf): a live spec whose digest differs was
   * changed by hand (`docker service update --env-add ...`, a scale to 0) and is replaced.
   */
  shape: 'torfleet.swarm-shape',
  /** On a task's container: whose it is, without `torfleet.managed` (the docker runtime must never list it). */
  taskInstance: 'torfleet.swarm-instance',
} as const;

export const TASK_DATA_DIR = '/var/lib/tor';
export const TASK_GEOIP = '/etc/torfleet/geoip';
export const TASK_TORRC = '/etc/tor/torrc';
const NS_PER_SECOND = 1_000_000_000;

/** A proxy's service: `torfleet-<proxy>`, the docker runtime's container name. */
export function serviceName(proxy: string): string {
  return containerName(proxy);
}

/** A proxy's tor data volume (one per proxy and node: the local driver creates it where the task runs). */
export function volumeName(proxy: string): string {
  return containerName(proxy);
}

/** Its torrc config: named by spec hash (configs are immutable; a new spec is a new config). At most 58 characters. */
export function configName(proxy: string, specHash: string): string {
  return `${containerName(proxy)}-${specHash.slice(0, 12)}`;
}

export interface ServiceSpecInput {
  readonly spec: ProxySpec;
  readonly instance: string;
  readonly revision: string;
  /** The torrc's Swarm config: its name and id. */
  readonly config: { readonly name: string; readonly id: string };
  readonly memoryLimitMb: number;
  /** Bumped to make Swarm replace a task whose spec did not change (a failed task). */
  readonly forceUpdate?: number;
}

/**
 * The service of one proxy. Pure. One replica on the predefined `host` network (tor's SocksPort binds on
 * the node), restarted on any exit, a memory limit, an init process, its torrc a Swarm config, its data
 * directory a named volume, the pool's placement constraints. Updates are stop-first: two tors of one proxy
 * on one node would fight over its port and its data directory (tor locks it), and Swarm may well put the
 * new task on the node of the old one. A failed update rolls back to the previous spec.
 */
export function swarmServiceSpec(input: ServiceSpecInput): Docker.ServiceSpec {
  const { spec } = input;
  const labels = proxyLabels(spec, input.instance, input.revision);
  const mounts: Docker.MountSettings[] = [
    {
      Type: 'volume',
      Source: volumeName(spec.name),
      Target: TASK_DATA_DIR,
      VolumeOptions: {
        NoCopy: false,
        DriverConfig: { Name: 'local', Options: {} },
        Labels: {
          [LABEL.managed]: 'true',
          [LABEL.instance]: input.instance,
          [LABEL.pool]: spec.pool,
          [LABEL.proxy]: spec.name,
        },
      },
    },
  ];
  // A bind mount: the file must be at the same path on every node that may run the proxy.
  if (spec.tor.geoipFile) mounts.push({ Type: 'bind', Source: spec.tor.geoipFile, Target: TASK_GEOIP, ReadOnly: true });
  const update: Docker.UpdateConfig = {
    Parallelism: 1,
    Order: 'stop-first',
    FailureAction: 'rollback',
    Monitor: 10 * NS_PER_SECOND,
  };
  const service: Docker.ServiceSpec = {
    Name: serviceName(spec.name),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.tor.image,
        Labels: { [SWARM_LABEL.taskInstance]: input.instance, [LABEL.proxy]: spec.name },
        Init: true,
        StopGracePeriod: 5 * NS_PER_SECOND,
        Mounts: mounts,
        Configs: [
          {
            ConfigID: input.config.id,
            ConfigName: input.config.name,
            File: { Name: TASK_TORRC, UID: '0', GID: '0', Mode: 0o444 },
          },
        ],
        // The image's check, more often than its 30 s: Swarm reports a task running once it is healthy.
        HealthCheck: {
          Test: ['CMD', '/usr/bin/tor-healthcheck', TASK_DATA_DIR],
          Interval: 5 * NS_PER_SECOND,
          Timeout: 5 * NS_PER_SECOND,
          StartPeriod: 30 * NS_PER_SECOND,
          Retries: 3,
        },
      },
      Resources: { Limits: { MemoryBytes: input.memoryLimitMb * 1024 * 1024 } },
      RestartPolicy: { Condition: 'any', Delay: 5 * NS_PER_SECOND, MaxAttempts: 0 },
      Placement: { Constraints: [...spec.placement.constraints] },
      Networks: [{ Target: 'host' }],
      ForceUpdate: input.forceUpdate ?? 0,
    },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: update,
    RollbackConfig: { ...update, FailureAction: 'pause' },
  };
  return { ...service, Labels: { ...labels, [SWARM_LABEL.shape]: serviceShapeOf(service) } };
}

/**
 * A digest of what torfleet sets in a service spec and a hand edit could change, read the same way from
 * the spec torfleet sends and from the one Swarm returns (which adds defaults and turns the `host` network
 * into its id, so neither defaults nor networks are read). Pure.
 */
export function serviceShapeOf(service: Docker.ServiceSpec): string {
  const task = (service.TaskTemplate ?? {}) as Docker.ContainerTaskSpec;
  const container = task.ContainerSpec ?? {};
  return specHashOf({
    image: withoutDigest(container.Image ?? ''),
    command: container.Command ?? [],
    args: container.Args ?? [],
    env: container.Env ?? [],
    user: container.User ?? '',
    init: container.Init ?? false,
    mounts: (container.Mounts ?? []).map((mount) => [mount.Type, mount.Source, mount.Target, mount.ReadOnly ?? false]),
    configs: (container.Configs ?? []).map((config) => [config.ConfigName ?? '', config.File?.Name ?? '']),
    secrets: (container.Secrets ?? []).map((secret) => secret.SecretName ?? ''),
    memory: task.Resources?.Limits?.MemoryBytes ?? 0,
    restart: task.RestartPolicy?.Condition ?? '',
    constraints: task.Placement?.Constraints ?? [],
    replicas: service.Mode?.Replicated?.Replicas ?? null,
    ports: (service.EndpointSpec?.Ports ?? []).map((port) => [port.PublishedPort ?? 0, port.TargetPort ?? 0]),
  });
}

/** `image@sha256:...` → `image`: Swarm pins a tag to its digest when a registry knows it. */
function withoutDigest(image: string): string {
  const at = image.indexOf('@');
  return at < 0 ? image : image.slice(0, at);
}
