import { isIP } from 'node:net';
import type Docker from 'dockerode';
import { isWildcardAddress } from '../fleet/ip-address.js';
import type { ObservedProxy, ObservedState } from '../plan/plan-types.js';
import { LABEL } from './proxy-runtime.js';
import { SWARM_LABEL, serviceShapeOf } from './swarm-service-spec.js';

/** The part of a Swarm service the mapper reads (GET /services). */
export interface SwarmService {
  readonly ID: string;
  readonly Version?: { readonly Index?: number };
  readonly Spec?: Docker.ServiceSpec;
}

/** The part of a Swarm task the mapper reads (GET /tasks). */
export interface SwarmTask {
  readonly ID: string;
  readonly ServiceID: string;
  readonly NodeID?: string;
  readonly CreatedAt?: string;
  readonly DesiredState?: string;
  readonly Status?: {
    readonly State?: string;
    readonly Timestamp?: string;
    readonly Err?: string;
    readonly Message?: string;
  };
}

/** The part of a Swarm node the mapper reads (GET /nodes). */
export interface SwarmNode {
  readonly ID: string;
  readonly Spec?: { readonly Labels?: Readonly<Record<string, string>> };
  readonly Description?: { readonly Hostname?: string };
  readonly Status?: { readonly State?: string; readonly Addr?: string };
  readonly ManagerStatus?: { readonly Addr?: string };
}

/** A node label that names the address proxies on that node are dialled at, when Swarm's own is wrong (NAT). */
export const NODE_ADDRESS_LABEL = 'torfleet.address';

/** Task states before a container runs: the scheduler's `pending` is its own; the rest are on their way. */
const STARTING = new Set(['new', 'allocated', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
/** Desired states of a task Swarm still means to run (`ready`: a restart waiting out its delay). */
const WANTED = new Set(['running', 'ready']);

/**
 * A managed service, its tasks and the swarm's nodes → the proxy, or undefined when it is not torfleet's.
 * Pure. The proxy's state is that of its current task: the newest one Swarm still wants running, preferring
 * one that runs on a node that is up (during a rolling update or after a node was lost a service has
 * several). A task on a `down` node is not running, whatever it last reported (`restarting`: Swarm
 * reschedules it); a failed or rejected task is
 * `stopped` (the plan replaces it); a task the scheduler cannot place is `pending` with its reason. A live
 * spec that is not the one torfleet wrote (changed by hand) shows no spec hash, so the plan replaces it.
 * A task on another node than `localNodeId` (this engine's) carries that node's address (nodeAddressOf).
 */
export function mapSwarmService(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  nodes: readonly SwarmNode[],
  localNodeId: string | null,
): ObservedProxy | undefined {
  const labels = service.Spec?.Labels ?? {};
  if (labels[LABEL.managed] !== 'true') return undefined;
  const name = labels[LABEL.proxy];
  const pool = labels[LABEL.pool];
  if (!name || !pool) return undefined;
  const exits = labels[LABEL.exits] ?? '';
  const byId = new Map(nodes.map((node) => [node.ID, node]));
  const own = tasks.filter((task) => task.ServiceID === service.ID);
  const task = currentTask(own, byId);
  const node = task?.NodeID ? byId.get(task.NodeID) : undefined;
  const observed = task
    ? taskState(task, node)
    : { state: 'pending' as const, reason: 'swarm has not made a task yet' };
  const edited = service.Spec !== undefined && labels[SWARM_LABEL.shape] !== serviceShapeOf(service.Spec);
  return {
    name,
    pool,
    id: service.ID,
    state: observed.state,
    specHash: edited ? '' : (labels[LABEL.specHash] ?? ''),
    exitFingerprints: exits === '' ? [] : exits.split(','),
    revision: labels[LABEL.revision] ?? '',
    startedAt: observed.state === 'running' ? (task?.Status?.Timestamp ?? null) : null,
    node: node?.Description?.Hostname ?? null,
    nodeAddress: node && node.ID !== localNodeId ? nodeAddressOf(node) : null,
    reason: edited ? 'the service was changed outside torfleet' : observed.reason,
  };
}

function currentTask(tasks: readonly SwarmTask[], nodes: ReadonlyMap<string, SwarmNode>): SwarmTask | undefined {
  const wanted = tasks.filter((task) => WANTED.has(task.DesiredState ?? ''));
  const pool = wanted.length > 0 ? wanted : tasks;
  return [...pool].sort((a, b) => rank(b, nodes) - rank(a, nodes) || compare(b.CreatedAt, a.CreatedAt))[0];
}

/** Running on a live node first, then anything on its way, then what is over. */
function rank(task: SwarmTask, nodes: ReadonlyMap<string, SwarmNode>): number {
  const state = task.Status?.State ?? '';
  const nodeUp = task.NodeID === undefined || nodes.get(task.NodeID)?.Status?.State !== 'down';
  if (state === 'running' && nodeUp) return 3;
  if ((STARTING.has(state) || state === 'pending') && nodeUp) return 2;
  return 1;
}

function taskState(task: SwarmTask, node: SwarmNode | undefined): { state: ObservedState; reason: string | null } {
  const state = task.Status?.State ?? '';
  const said = task.Status?.Err || task.Status?.Message || null;
  if (node?.Status?.State === 'down') {
    const host = node.Description?.Hostname ?? node.ID;
    // Swarm reschedules the tasks of a lost node by itself: torfleet waits for it rather than fight it.
    return { state: 'restarting', reason: `node ${host} is down; swarm moves the task to another node that fits` };
  }
  if (state === 'running') return { state: 'running', reason: null };
  if (state === 'pending') return { state: 'pending', reason: said };
  if (STARTING.has(state)) return { state: 'restarting', reason: said };
  return { state: 'stopped', reason: said ?? `task ${state || 'state unknown'}` };
}

function compare(a: string | undefined, b: string | undefined): number {
  const left = a ?? '';
  const right = b ?? '';
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The address a proxy on `node` is dialled at from the manager: the node's `torfleet.address` label when set
 * (an IP literal), else the manager address of a manager node (`ManagerStatus.Addr`: its `Status.Addr` may read
 * 0.0.0.0 or 127.0.0.1, moby#30119, moby#35437), else `Status.Addr`. Null when none is a usable IP literal.
 */
export function nodeAddressOf(node: SwarmNode): string | null {
  const labelled = node.Spec?.Labels?.[NODE_ADDRESS_LABEL];
  if (labelled !== undefined) return isUsable(labelled) ? labelled : null;
  const manager = node.ManagerStatus?.Addr;
  const candidates = [manager ? hostOfHostPort(manager) : undefined, node.Status?.Addr];
  return candidates.find((address): address is string => address !== undefined && isUsable(address)) ?? null;
}

/** `10.0.0.5:2377` → `10.0.0.5`; `[fd00::5]:2377` → `fd00::5`. */
function hostOfHostPort(hostPort: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(hostPort);
  if (bracketed) return bracketed[1] ?? '';
  const colon = hostPort.lastIndexOf(':');
  return colon > 0 && hostPort.indexOf(':') === colon ? hostPort.slice(0, colon) : hostPort;
}

function isUsable(address: string): boolean {
  return isIP(address) !== 0 && !isWildcardAddress(address);
}
