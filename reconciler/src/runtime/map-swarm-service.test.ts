import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Docker from 'dockerode';
import { buildSpec } from '../plan/compute-plan.js';
import { testPool, TEST_TOR } from '../testing/fleet-fixtures.js';
import { mapSwarmService, type SwarmNode, type SwarmService, type SwarmTask } from './map-swarm-service.js';
import { swarmServiceSpec } from './swarm-service-spec.js';

/**
 * The mapper on Swarm's answers as a manager of a multi-node swarm gives them (which this machine's one
 * node cannot show): a node lost, tasks rescheduled, a failed task, several tasks of one service.
 */
const FP = 'A'.repeat(40);
const spec = buildSpec(
  testPool('eu', { placement: { constraints: ['node.labels.region==eu'] } }),
  0,
  { fingerprints: [FP], addresses: ['192.0.2.1'], countries: ['de'], network: null },
  TEST_TOR,
  'digest',
);
const written = swarmServiceSpec({
  spec,
  instance: 'prod',
  revision: 'r1',
  config: { name: 'torfleet-eu-0-abc', id: 'cfg1' },
  memoryLimitMb: 256,
});

/** The spec as Swarm returns it: defaults added, the `host` network turned into its id. */
function live(over: (spec: Docker.ServiceSpec) => Docker.ServiceSpec = (s) => s): SwarmService {
  const template = written.TaskTemplate as Docker.ContainerTaskSpec;
  const returned: Docker.ServiceSpec = {
    ...written,
    TaskTemplate: {
      ...template,
      ContainerSpec: { ...template.ContainerSpec, Isolation: 'default' },
      Placement: { ...template.Placement, Platforms: [{ Architecture: 'amd64', OS: 'linux' }] },
      Networks: [{ Target: 'q1w2e3r4t5y6' }],
      Runtime: 'container',
    },
    EndpointSpec: { Mode: 'vip' },
  };
  return { ID: 'svc1', Version: { Index: 12 }, Spec: over(returned) };
}

const NODES: SwarmNode[] = [
  { ID: 'n1', Description: { Hostname: 'eu-1' }, Status: { State: 'ready' } },
  { ID: 'n2', Description: { Hostname: 'eu-2' }, Status: { State: 'ready' } },
  { ID: 'n3', Description: { Hostname: 'eu-3' }, Status: { State: 'down' } },
];

function task(id: string, over: Partial<SwarmTask> & { state: string; at: string; err?: string }): SwarmTask {
  return {
    ID: id,
    ServiceID: 'svc1',
    DesiredState: 'running',
    CreatedAt: over.at,
    Status: { State: over.state, Timestamp: over.at, ...(over.err ? { Err: over.err } : {}) },
    ...over,
  };
}

describe('mapSwarmService', () => {
  const CASES: readonly [string, SwarmTask[], { state: string; node: string | null; reason: string | null }][] = [
    [
      'one running task',
      [task('t1', { NodeID: 'n1', state: 'running', at: '1' })],
      { state: 'running', node: 'eu-1', reason: null },
    ],
    [
      'no node can take it: pending with the scheduler’s reason',
      [
        task('t1', {
          state: 'pending',
          at: '1',
          err: 'no suitable node (scheduling constraints not satisfied on 3 nodes)',
        }),
      ],
      { state: 'pending', node: null, reason: 'no suitable node (scheduling constraints not satisfied on 3 nodes)' },
    ],
    [
      'its node lost, not yet rescheduled: swarm moves it (restarting, not replaced)',
      [task('t1', { NodeID: 'n3', state: 'running', at: '1' })],
      {
        state: 'restarting',
        node: 'eu-3',
        reason: 'node eu-3 is down; swarm moves the task to another node that fits',
      },
    ],
    [
      'rescheduled after its node was lost: the new task on a live node counts',
      [
        task('t1', { NodeID: 'n3', state: 'running', at: '1', DesiredState: 'shutdown' }),
        task('t2', { NodeID: 'n2', state: 'running', at: '2' }),
      ],
      { state: 'running', node: 'eu-2', reason: null },
    ],
    [
      'rescheduled, starting on the new node while the lost one still says running',
      [
        task('t1', { NodeID: 'n3', state: 'running', at: '1' }),
        task('t2', { NodeID: 'n1', state: 'starting', at: '2' }),
      ],
      { state: 'restarting', node: 'eu-1', reason: null },
    ],
    [
      'a failed task Swarm does not restart: stopped with its error (the plan replaces it)',
      [task('t1', { NodeID: 'n1', state: 'failed', at: '1', err: 'task: non-zero exit (1)' })],
      { state: 'stopped', node: 'eu-1', reason: 'task: non-zero exit (1)' },
    ],
    [
      'a failed task and its restart waiting out the delay: restarting',
      [
        task('t1', { NodeID: 'n1', state: 'failed', at: '1', DesiredState: 'shutdown', err: 'non-zero exit (1)' }),
        task('t2', { state: 'ready', at: '2', DesiredState: 'ready' }),
      ],
      { state: 'restarting', node: null, reason: null },
    ],
    [
      'several tasks of one service (a rolling update): the running one counts, not the history',
      [
        task('t1', { NodeID: 'n1', state: 'shutdown', at: '1', DesiredState: 'shutdown' }),
        task('t2', { NodeID: 'n1', state: 'failed', at: '2', DesiredState: 'shutdown', err: 'bind: address in use' }),
        task('t3', { NodeID: 'n2', state: 'running', at: '3' }),
        task('t4', { NodeID: 'n9', state: 'running', at: '4', ServiceID: 'other' }),
      ],
      { state: 'running', node: 'eu-2', reason: null },
    ],
    [
      'rejected on every node (the image is missing there): stopped with why',
      [task('t1', { NodeID: 'n2', state: 'rejected', at: '1', err: 'No such image: torfleet/tor:0.4.9' })],
      { state: 'stopped', node: 'eu-2', reason: 'No such image: torfleet/tor:0.4.9' },
    ],
    ['no task yet', [], { state: 'pending', node: null, reason: 'swarm has not made a task yet' }],
  ];
  for (const [name, tasks, want] of CASES) {
    test(name, () => {
      const observed = mapSwarmService(live(), tasks, NODES, 'n1');
      assert.ok(observed);
      assert.deepEqual({ state: observed.state, node: observed.node, reason: observed.reason }, want);
      assert.equal(observed.specHash, spec.specHash, 'the spec Swarm returns is the one written');
    });
  }

  test('labels become the proxy; a running task gives startedAt', () => {
    const observed = mapSwarmService(
      live(),
      [task('t1', { NodeID: 'n1', state: 'running', at: '2026-01-01T00:00:00Z' })],
      NODES,
      'n1',
    );
    assert.deepEqual(observed, {
      name: 'eu-0',
      pool: 'eu',
      id: 'svc1',
      state: 'running',
      specHash: spec.specHash,
      exitFingerprints: [FP],
      revision: 'r1',
      startedAt: '2026-01-01T00:00:00Z',
      node: 'eu-1',
      nodeAddress: null,
      reason: null,
    });
  });

  const ADDRESSES: readonly [string, SwarmNode, string | null][] = [
    ['a worker: its Status.Addr', { ID: 'w', Status: { State: 'ready', Addr: '10.0.0.6' } }, '10.0.0.6'],
    [
      'a manager: its ManagerStatus.Addr, not a Status.Addr of 0.0.0.0 (moby#35437)',
      { ID: 'w', Status: { State: 'ready', Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.0.0.7:2377' } },
      '10.0.0.7',
    ],
    [
      'a manager: its ManagerStatus.Addr over a Status.Addr of 127.0.0.1 (moby#30119)',
      { ID: 'w', Status: { State: 'ready', Addr: '127.0.0.1' }, ManagerStatus: { Addr: '10.0.0.8:2377' } },
      '10.0.0.8',
    ],
    [
      'an IPv6 manager address',
      { ID: 'w', Status: { State: 'ready' }, ManagerStatus: { Addr: '[fd00::9]:2377' } },
      'fd00::9',
    ],
    [
      'the torfleet.address label over what Swarm says (behind NAT)',
      {
        ID: 'w',
        Spec: { Labels: { 'torfleet.address': '203.0.113.4' } },
        Status: { State: 'ready', Addr: '10.0.0.6' },
      },
      '203.0.113.4',
    ],
    [
      'a label that is not an IP literal: no address (never a host name to resolve)',
      {
        ID: 'w',
        Spec: { Labels: { 'torfleet.address': 'eu-2.internal' } },
        Status: { State: 'ready', Addr: '10.0.0.6' },
      },
      null,
    ],
    ['nothing usable', { ID: 'w', Status: { State: 'ready', Addr: '0.0.0.0' } }, null],
  ];
  for (const [name, node, want] of ADDRESSES) {
    test(`a task on another node is dialled at its address: ${name}`, () => {
      const running = [task('t1', { NodeID: 'w', state: 'running', at: '1' })];
      assert.equal(mapSwarmService(live(), running, [...NODES, node], 'n1')?.nodeAddress, want);
    });
  }

  test("a task on this engine's own node has no node address: it is dialled here", () => {
    const here: SwarmNode = {
      ID: 'n1',
      Description: { Hostname: 'eu-1' },
      Status: { State: 'ready', Addr: '10.0.0.5' },
    };
    const running = [task('t1', { NodeID: 'n1', state: 'running', at: '1' })];
    assert.equal(mapSwarmService(live(), running, [here], 'n1')?.nodeAddress, null);
    assert.equal(mapSwarmService(live(), running, [here], 'n2')?.nodeAddress, '10.0.0.5');
  });

  test("a node lost, its task rescheduled: the new node's address", () => {
    const nodes: SwarmNode[] = [
      { ID: 'a', Status: { State: 'down', Addr: '10.0.0.6' } },
      { ID: 'b', Status: { State: 'ready', Addr: '10.0.0.7' } },
    ];
    const tasks = [
      task('t1', { NodeID: 'a', state: 'running', at: '1' }),
      task('t2', { NodeID: 'b', state: 'running', at: '2' }),
    ];
    const observed = mapSwarmService(live(), tasks, nodes, 'm');
    assert.equal(observed?.state, 'running');
    assert.equal(observed.nodeAddress, '10.0.0.7');
  });

  const EDITS: readonly [string, (spec: Docker.ServiceSpec) => Docker.ServiceSpec][] = [
    ['an env var added', (s) => withContainer(s, { Env: ['X=1'] })],
    ['another image', (s) => withContainer(s, { Image: 'torfleet/tor:0.4.8' })],
    ['scaled to 0', (s) => ({ ...s, Mode: { Replicated: { Replicas: 0 } } })],
    ['the constraints dropped', (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, Placement: {} } })],
    [
      'the memory limit raised',
      (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, Resources: { Limits: { MemoryBytes: 1 } } } }),
    ],
    ['a port published', (s) => ({ ...s, EndpointSpec: { Ports: [{ PublishedPort: 9050, TargetPort: 9050 }] } })],
  ];
  for (const [name, edit] of EDITS) {
    test(`changed by hand (${name}): no spec hash, so the plan replaces it`, () => {
      const observed = mapSwarmService(
        live(edit),
        [task('t1', { NodeID: 'n1', state: 'running', at: '1' })],
        NODES,
        'n1',
      );
      assert.equal(observed?.specHash, '');
      assert.equal(observed.reason, 'the service was changed outside torfleet');
    });
  }

  test('the image pinned to its digest by Swarm is not an edit', () => {
    const pinned = live((s) => withContainer(s, { Image: `${TEST_TOR.image}@sha256:${'0'.repeat(64)}` }));
    assert.equal(mapSwarmService(pinned, [], NODES, 'n1')?.specHash, spec.specHash);
  });

  test('a service without torfleet.managed=true is not a proxy', () => {
    const foreign = live((s) => ({ ...s, Labels: { ...s.Labels, 'torfleet.managed': 'false' } }));
    assert.equal(mapSwarmService(foreign, [], NODES, 'n1'), undefined);
  });
});

function withContainer(spec: Docker.ServiceSpec, over: Docker.ContainerSpec): Docker.ServiceSpec {
  const template = spec.TaskTemplate as Docker.ContainerTaskSpec;
  return { ...spec, TaskTemplate: { ...template, ContainerSpec: { ...template.ContainerSpec, ...over } } };
}
