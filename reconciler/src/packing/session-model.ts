import type { PackedProxy } from './packed-proxy.js';

/**
 * What a controller session keeps of each proxy, its circuits and its streams, and the small pure rules over
 * them (one circuit per SOCKS username/password, what counts as busy, when a proxy keeps its circuits).
 */

/** The circuit of a proxy's streams without SOCKS auth; each username/password pair gets its own slot. */
export const DEFAULT_KEY = '';
/**
 * How many BUILT events and ends of unknown circuits are remembered: on loopback a circuit can be built (or end)
 * in the same read as EXTENDCIRCUIT's reply, and events are handled before the reply's promise settles.
 */
const EARLY_EVENTS = 256;

export interface Circuit {
  readonly id: string;
  readonly proxy: ProxyEntry;
  readonly slot: Slot;
  readonly exit: string;
  state: 'building' | 'built' | 'draining';
  readonly launchedAt: number;
  builtAt: number;
  readonly streams: Set<string>;
  /** We asked tor to close it: its end is no failure. */
  closing: boolean;
}

export interface Slot {
  readonly key: string;
  current: Circuit | null;
  /** The circuit that will replace `current` (renewal, rotation) once built. */
  next: Circuit | null;
  /** An EXTENDCIRCUIT is on its way for this slot. */
  launching: boolean;
  readonly waiting: { streamId: string; deadline: number }[];
  lastUsedAt: number;
  renewRetryAt: number;
}

export interface ProxyEntry {
  spec: PackedProxy;
  readonly slots: Map<string, Slot>;
  readonly draining: Set<Circuit>;
  /** The exit its circuits use (sticky for flexible proxies, the latest for rotating ones). */
  exit: string | null;
  lastError: string | null;
  failures: number;
  retryAt: number;
  /** The exit of the last failed circuit: a flexible proxy tries another first. */
  failedExit: string | null;
}

export interface TrackedStream {
  readonly id: string;
  readonly proxy: ProxyEntry;
  readonly key: string;
  readonly newAt: number;
  circuit: Circuit | null;
  detaches: number;
}

export function newSlot(key: string, now: number): Slot {
  return { key, current: null, next: null, launching: false, waiting: [], lastUsedAt: now, renewRetryAt: 0 };
}

export function busy(slot: Slot): number {
  return (slot.current?.streams.size ?? 0) + (slot.next?.streams.size ?? 0);
}

/** The SOCKS username and password as one key (never logged): each pair is its own circuit, as tor isolates them. */
export function isolationKey(username: string | null, password: string | null): string {
  return username === null && password === null ? DEFAULT_KEY : JSON.stringify([username ?? '', password ?? '']);
}

/** Whether `next` can keep `current`'s circuits: same port and group, and the exit in use still allowed. */
export function sameServing(current: PackedProxy, next: PackedProxy): boolean {
  return (
    current.listen === next.listen &&
    current.sessionGroup === next.sessionGroup &&
    current.exits.length === next.exits.length &&
    current.exits.every((exit, i) => next.exits[i] === exit) &&
    current.rotateEverySeconds === next.rotateEverySeconds
  );
}

/** Keeps `value` for circuit `id`, forgetting the oldest beyond EARLY_EVENTS. */
export function remember<T>(early: Map<string, T>, id: string, value: T): void {
  early.set(id, value);
  if (early.size > EARLY_EVENTS) early.delete(early.keys().next().value ?? '');
}
