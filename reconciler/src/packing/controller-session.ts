import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { getinfoLines, type ControlConnection, type ControlReply } from '../tor-control/control-connection.js';
import { backoffMs, type ControllerTuning } from './controller-tuning.js';
import type { PackedProxy, PackedProxyStatus, PackingEvents } from './packed-proxy.js';
import { chooseExit, choosePath, type PathRules, type Random } from './path-selection.js';
import { RelayBook } from './relay-book.js';
import { SocksPortList } from './socks-port-list.js';
import {
  busy,
  DEFAULT_KEY,
  isolationKey,
  newSlot,
  remember,
  sameServing,
  type Circuit,
  type ProxyEntry,
  type Slot,
  type TrackedStream,
} from './session-model.js';
import { parseTorEvent, type CircuitEvent, type StreamEvent } from './tor-events.js';

/** Streams tor starts itself (directory fetches): tor attaches them, never us. */
const TOR_PURPOSES = new Set(['DIR_FETCH', 'DIR_UPLOAD', 'DIRPORT_TEST']);
/** A stream tor detaches (its circuit failed under it) is attached again this many times, then closed. */
const DETACHES_ALLOWED = 2;

export interface SessionOptions {
  readonly connection: ControlConnection;
  readonly dataDirectory: string;
  readonly rules: PathRules;
  readonly log: Logger;
  readonly events: PackingEvents;
  readonly tuning: ControllerTuning;
  readonly random: Random;
  readonly now: () => number;
}

/**
 * The controller's work over one control connection: it owns every circuit it builds there and attaches every
 * client stream itself. Invariant: a stream is attached only to a built circuit of the proxy whose session group
 * it came from, for the same SOCKS username/password, whose exit is one of that proxy's exits; otherwise it is
 * closed or waits (bounded). Everything here is undone by the end of the connection (a new session starts clean).
 */
export class ControllerSession {
  readonly #o: SessionOptions;
  readonly #proxies = new Map<string, ProxyEntry>();
  readonly #groups = new Map<number, ProxyEntry>();
  readonly #circuits = new Map<string, Circuit>();
  readonly #streams = new Map<string, TrackedStream>();
  readonly #earlyEnds = new Map<string, string>();
  readonly #earlyBuilt = new Map<string, readonly string[]>();
  readonly #ports: SocksPortList;
  readonly #book: RelayBook;
  #dirtinessMs = 10 * 60_000;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#ports = new SocksPortList((line) => this.#command(line), options.log);
    this.#book = new RelayBook({ ...options, command: (line, more) => this.#command(line, more) });
  }

  /**
   * Takes tor over: streams left to us, our events, no CONTROLLER circuit of an earlier controller (it cannot
   * know their streams' proxies), no stream left waiting from before, then the relays, the ports, the circuits.
   */
  async start(proxies: readonly PackedProxy[]): Promise<void> {
    await this.#command('SETCONF __LeaveStreamsUnattached=1 __DisablePredictedCircuits=1');
    const dirtiness = await this.#command('GETCONF MaxCircuitDirtiness');
    this.#setDirtiness(/^MaxCircuitDirtiness=(\d+)$/.exec(dirtiness.lines[0]?.text ?? '')?.[1]);
    this.setProxies(proxies, false);
    await this.#command('SETEVENTS STREAM CIRC CONF_CHANGED');
    const circuits = await this.#command('GETINFO circuit-status', { maxReplyBytes: 16 * 1024 * 1024 });
    const stale = getinfoLines(circuits, 'circuit-status')
      .filter((line) => / PURPOSE=CONTROLLER(?: |$)/.test(line))
      .map((line) => line.split(' ')[0] ?? '');
    await Promise.all(stale.map((id) => this.#command(`CLOSECIRCUIT ${id}`).catch(() => undefined)));
    if (stale.length > 0) this.#o.log.info('closed the circuits of an earlier controller', { circuits: stale.length });
    const streams = await this.#command('GETINFO stream-status', { maxReplyBytes: 16 * 1024 * 1024 });
    for (const line of getinfoLines(streams, 'stream-status')) {
      const [id = '', , circuit, target = ''] = line.split(' ');
      // A client stream left waiting before we came cannot be mapped to a proxy: close it, the client retries.
      if (circuit === '0' && !this.#streams.has(id) && !/\.\$[0-9A-F]{40}\.exit:\d+$/.test(target)) {
        this.#closeStream(id, null, 'it was waiting before this controller connected');
      }
    }
    await this.#book.readSavedGuards();
    await this.#readRelays();
    await this.#ports.apply(this.#desiredPorts(), this.#portFailed);
    this.#timer = setInterval(() => {
      this.#tick();
    }, this.#o.tuning.tickMs);
    this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Only what changed is touched: a removed proxy's circuits close, an added one gets its own; others keep theirs. */
  setProxies(proxies: readonly PackedProxy[], applyPorts = true): void {
    const wanted = new Map(proxies.map((proxy) => [proxy.name, proxy]));
    for (const [name, entry] of this.#proxies) {
      const next = wanted.get(name);
      if (next && sameServing(entry.spec, next)) {
        entry.spec = next;
        continue;
      }
      this.#remove(entry);
    }
    for (const proxy of proxies) {
      if (this.#proxies.has(proxy.name)) continue;
      const entry: ProxyEntry = {
        spec: proxy,
        slots: new Map(),
        draining: new Set(),
        exit: null,
        lastError: null,
        failures: 0,
        retryAt: 0,
        failedExit: null,
      };
      this.#proxies.set(proxy.name, entry);
      this.#groups.set(proxy.sessionGroup, entry);
    }
    if (applyPorts && !this.#stopped) {
      void this.#ports.apply(this.#desiredPorts(), this.#portFailed).catch((error: unknown) => {
        this.#o.log.warn('could not set the SocksPorts', { error: errorMessage(error) });
      });
    }
    if (this.#timer) this.#tick();
  }

  status(): Map<string, PackedProxyStatus> {
    const statuses = new Map<string, PackedProxyStatus>();
    for (const [name, proxy] of this.#proxies) statuses.set(name, this.#statusOf(proxy));
    return statuses;
  }

  /** One proxy's status (status()'s entry), without building every other proxy's: health asks one at a time. */
  statusOf(name: string): PackedProxyStatus | null {
    const proxy = this.#proxies.get(name);
    return proxy ? this.#statusOf(proxy) : null;
  }

  #statusOf(proxy: ProxyEntry): PackedProxyStatus {
    const current = proxy.slots.get(DEFAULT_KEY)?.current;
    const built = current?.state === 'built' ? current : null;
    let streams = 0;
    for (const slot of proxy.slots.values())
      streams += (slot.current?.streams.size ?? 0) + (slot.next?.streams.size ?? 0);
    for (const circuit of proxy.draining) streams += circuit.streams.size;
    return {
      circuitBuilt: built !== null,
      circuitId: built?.id ?? null,
      exit: built?.exit ?? null,
      attachedStreams: streams,
      lastError: this.#ports.errorOf(proxy.spec.listen) ?? proxy.lastError,
      since: built ? new Date(built.builtAt).toISOString() : null,
    };
  }

  onEvent(reply: ControlReply): void {
    if (this.#stopped) return;
    const event = parseTorEvent(reply.lines.map((line) => line.text));
    if (event?.kind === 'stream') this.#onStream(event);
    else if (event?.kind === 'circuit') this.#onCircuit(event);
    else if (event?.kind === 'conf') {
      const dirtiness = event.settings.get('MaxCircuitDirtiness');
      if (dirtiness !== undefined) this.#setDirtiness(dirtiness ?? '600');
    }
  }

  // ---- streams ----

  #onStream(event: StreamEvent): void {
    const tracked = this.#streams.get(event.streamId);
    switch (event.status) {
      case 'NEW':
      case 'NEWRESOLVE': {
        if (event.circuitId !== '0' || (event.purpose !== null && TOR_PURPOSES.has(event.purpose))) return;
        const proxy = event.sessionGroup === null ? undefined : this.#groups.get(event.sessionGroup);
        if (!proxy) {
          this.#closeStream(event.streamId, null, `session group ${String(event.sessionGroup)} is no proxy's`);
          return;
        }
        const stream: TrackedStream = {
          id: event.streamId,
          proxy,
          key: isolationKey(event.socksUsername, event.socksPassword),
          newAt: this.#o.now(),
          circuit: null,
          detaches: 0,
        };
        this.#streams.set(stream.id, stream);
        this.#route(stream);
        return;
      }
      case 'SENTCONNECT':
      case 'SENTRESOLVE':
      case 'SUCCEEDED':
        if (tracked?.circuit && event.circuitId !== tracked.circuit.id) {
          this.#o.log.error('a stream is on a circuit the controller did not attach it to; closing it', {
            proxy: tracked.proxy.spec.name,
            stream: tracked.id,
            circuit: event.circuitId,
          });
          this.#closeStream(tracked.id, tracked.proxy, 'it was on a circuit not its own');
        }
        return;
      case 'DETACHED':
        if (!tracked) {
          if (event.sessionGroup !== null && event.sessionGroup >= 0) {
            this.#closeStream(event.streamId, null, 'a detached stream this controller does not know');
          }
          return;
        }
        this.#unlink(tracked);
        tracked.detaches++;
        if (tracked.detaches > DETACHES_ALLOWED) this.#closeStream(tracked.id, tracked.proxy, 'detached too often');
        else this.#route(tracked);
        return;
      case 'FAILED':
      case 'CLOSED':
        if (tracked) this.#forget(tracked);
        return;
      default:
        return;
    }
  }

  /** Attach now, wait for the circuit being built, or close: never another proxy's or another session's circuit. */
  #route(stream: TrackedStream): void {
    const proxy = stream.proxy;
    let slot = proxy.slots.get(stream.key);
    if (!slot) {
      if (!this.#makeRoom(proxy)) {
        this.#closeStream(stream.id, proxy, `it already has ${this.#o.tuning.maxCircuitsPerProxy} busy circuits`);
        return;
      }
      slot = newSlot(stream.key, this.#o.now());
      proxy.slots.set(stream.key, slot);
    }
    slot.lastUsedAt = this.#o.now();
    const current = slot.current;
    if (current?.state === 'built') {
      this.#attach(stream, current);
      return;
    }
    const down = this.#ports.errorOf(proxy.spec.listen) ?? proxy.lastError;
    if (down !== null) {
      this.#closeStream(stream.id, proxy, down);
      return;
    }
    slot.waiting.push({ streamId: stream.id, deadline: this.#o.now() + this.#o.tuning.streamWaitMs });
    if (!current && !slot.launching) this.#launch(proxy, slot, 'current');
  }

  #attach(stream: TrackedStream, circuit: Circuit): void {
    if (
      circuit.proxy !== stream.proxy ||
      !stream.proxy.spec.exits.includes(circuit.exit) ||
      circuit.state !== 'built'
    ) {
      // Unreachable by construction; kept because a wrong attach is the one failure this controller must not have.
      this.#closeStream(stream.id, stream.proxy, 'no circuit of its own to attach it to');
      return;
    }
    stream.circuit = circuit;
    circuit.streams.add(stream.id);
    this.#command(`ATTACHSTREAM ${stream.id} ${circuit.id}`).then(
      () => {
        this.#o.events.streamAttached(stream.proxy.spec.name, (this.#o.now() - stream.newAt) / 1000);
      },
      (error: unknown) => {
        if (!this.#streams.has(stream.id)) return; // it ended meanwhile
        this.#closeStream(stream.id, stream.proxy, `tor did not attach it: ${errorMessage(error)}`);
      },
    );
  }

  #closeStream(id: string, proxy: ProxyEntry | null, reason: string): void {
    const tracked = this.#streams.get(id);
    if (tracked) this.#forget(tracked);
    this.#o.events.streamRefused(proxy?.spec.name ?? null, reason);
    this.#o.log.debug('closed a stream', { proxy: proxy?.spec.name, stream: id, reason });
    void this.#command(`CLOSESTREAM ${id} 1`).catch(() => undefined); // gone already: nothing to do
  }

  #forget(stream: TrackedStream): void {
    this.#streams.delete(stream.id);
    this.#unlink(stream);
    for (const slot of stream.proxy.slots.values()) {
      const at = slot.waiting.findIndex((waiter) => waiter.streamId === stream.id);
      if (at !== -1) slot.waiting.splice(at, 1);
    }
  }

  #unlink(stream: TrackedStream): void {
    const circuit = stream.circuit;
    stream.circuit = null;
    if (!circuit) return;
    circuit.streams.delete(stream.id);
    if (circuit.state === 'draining' && circuit.streams.size === 0) this.#closeCircuit(circuit);
  }

  /** Room for one more slot: true if under the cap, or after closing the least recently used idle one. */
  #makeRoom(proxy: ProxyEntry): boolean {
    if (proxy.slots.size < this.#o.tuning.maxCircuitsPerProxy) return true;
    const idle = [...proxy.slots.values()]
      .filter((slot) => slot.key !== DEFAULT_KEY && slot.waiting.length === 0 && busy(slot) === 0)
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
    if (!idle) return false;
    this.#dropSlot(proxy, idle);
    return true;
  }

  // ---- circuits ----

  #launch(proxy: ProxyEntry, slot: Slot, role: 'current' | 'next'): void {
    const relays = this.#book.relays;
    if (relays.size === 0) {
      if (role === 'current') proxy.lastError = proxy.lastError ?? 'tor has no consensus yet';
      return;
    }
    const renewing = role === 'next';
    const exit = chooseExit(
      relays,
      proxy.spec.exits,
      renewing ? (slot.current?.exit ?? proxy.exit) : proxy.exit,
      {
        rotate: renewing && proxy.spec.rotateEverySeconds !== null,
        avoid: new Set(!renewing && proxy.failedExit !== null && proxy.spec.exits.length > 1 ? [proxy.failedExit] : []),
      },
      this.#o.random,
    );
    const path = exit === null ? null : choosePath(relays, this.#book.guards, exit, this.#o.rules, this.#o.random);
    if (path === null || !path.ok) {
      const problem = path?.problem ?? `none of its exits (${proxy.spec.exits.length}) is Running in tor's consensus`;
      // The node database may know an exit before this tor's consensus does: read tor's relays again soon, not in
      // relayRefreshMs (the proxy fails closed meanwhile, and its egress check sees it).
      if (exit === null) this.#book.soon(this.#o.tuning.backoffMaxMs);
      if (renewing) slot.renewRetryAt = this.#o.now() + this.#o.tuning.backoffMaxMs;
      else this.#fail(proxy, problem, null);
      return;
    }
    slot.launching = true;
    const launchedAt = this.#o.now();
    this.#command(`EXTENDCIRCUIT 0 $${path.guard},$${path.middle},$${path.exit} purpose=controller`).then(
      (reply) => {
        slot.launching = false;
        const id = /^EXTENDED (\d{1,16})$/.exec(reply.lines[0]?.text ?? '')?.[1];
        if (id === undefined) {
          this.#launchFailed(proxy, slot, role, 'tor answered EXTENDCIRCUIT without a circuit id', path.exit);
          return;
        }
        const circuit: Circuit = {
          id,
          proxy,
          slot,
          exit: path.exit,
          state: 'building',
          launchedAt,
          builtAt: 0,
          streams: new Set(),
          closing: false,
        };
        this.#circuits.set(id, circuit);
        const stillWanted = this.#proxies.get(proxy.spec.name) === proxy && proxy.slots.get(slot.key) === slot;
        if (!stillWanted || this.#stopped || (role === 'current' ? slot.current : slot.next) !== null) {
          this.#closeCircuit(circuit);
          return;
        }
        if (role === 'current') slot.current = circuit;
        else slot.next = circuit;
        const ended = this.#earlyEnds.get(id);
        const built = this.#earlyBuilt.get(id);
        this.#earlyEnds.delete(id);
        this.#earlyBuilt.delete(id);
        if (ended !== undefined) this.#onEnded(circuit, ended);
        else if (built !== undefined) this.#onBuilt(circuit, built);
      },
      (error: unknown) => {
        slot.launching = false;
        this.#launchFailed(proxy, slot, role, `tor refused the circuit: ${errorMessage(error)}`, path.exit);
      },
    );
  }

  #launchFailed(proxy: ProxyEntry, slot: Slot, role: 'current' | 'next', why: string, exit: string): void {
    if (role === 'next') slot.renewRetryAt = this.#o.now() + this.#o.tuning.backoffInitialMs;
    else this.#fail(proxy, why, exit);
  }

  #onCircuit(event: CircuitEvent): void {
    const circuit = this.#circuits.get(event.circuitId);
    const ended = event.status === 'FAILED' || event.status === 'CLOSED';
    if (!circuit) {
      if (ended) remember(this.#earlyEnds, event.circuitId, event.reason ?? event.status);
      else if (event.status === 'BUILT') remember(this.#earlyBuilt, event.circuitId, event.path);
      return;
    }
    if (event.status === 'BUILT') this.#onBuilt(circuit, event.path);
    else if (ended)
      this.#onEnded(circuit, [event.reason, event.remoteReason].filter(Boolean).join('/') || event.status);
  }

  #onBuilt(circuit: Circuit, path: readonly string[]): void {
    if (circuit.state !== 'building') return;
    const { proxy, slot } = circuit;
    if (path[path.length - 1] !== circuit.exit) {
      this.#o.log.error('tor built a circuit through another exit than asked; closing it', {
        proxy: proxy.spec.name,
        circuit: circuit.id,
      });
      this.#closeCircuit(circuit);
      this.#fail(proxy, `circuit ${circuit.id} was built through another exit`, circuit.exit);
      return;
    }
    circuit.state = 'built';
    circuit.builtAt = this.#o.now();
    this.#o.events.circuitBuilt(proxy.spec.name, (circuit.builtAt - circuit.launchedAt) / 1000);
    if (slot.next === circuit) {
      const old = slot.current;
      slot.current = circuit;
      slot.next = null;
      if (old) this.#drain(old);
      this.#o.events.circuitRenewed(proxy.spec.name);
    }
    if (slot.current !== circuit) return;
    if (slot.key === DEFAULT_KEY) proxy.exit = circuit.exit;
    proxy.lastError = null;
    proxy.failures = 0;
    proxy.retryAt = 0;
    proxy.failedExit = null;
    for (const waiter of slot.waiting.splice(0)) {
      const stream = this.#streams.get(waiter.streamId);
      if (stream) this.#attach(stream, circuit);
    }
  }

  #onEnded(circuit: Circuit, reason: string): void {
    this.#circuits.delete(circuit.id);
    const { proxy, slot } = circuit;
    const wasCurrent = slot.current === circuit;
    if (wasCurrent) slot.current = null;
    if (slot.next === circuit) {
      slot.next = null;
      slot.renewRetryAt = this.#o.now() + this.#o.tuning.backoffInitialMs;
    }
    proxy.draining.delete(circuit);
    for (const id of circuit.streams) {
      const stream = this.#streams.get(id);
      if (stream) stream.circuit = null;
    }
    if (circuit.closing || !wasCurrent) return;
    // A built circuit tor closed as finished (idle past its dirtiness) is no failure; a per-session circuit's end
    // neither (the default circuit speaks for the exit); a build that failed, or a circuit torn down, is.
    const benign = circuit.state === 'built' && (reason === 'FINISHED' || slot.key !== DEFAULT_KEY);
    if (benign) return;
    const what = circuit.state === 'built' ? 'closed' : 'failed to build';
    this.#fail(proxy, `circuit ${circuit.id} through exit ${circuit.exit} ${what} (${reason})`, circuit.exit);
  }

  /** The proxy is down: say why, close the streams waiting for it, retry after a growing delay. */
  #fail(proxy: ProxyEntry, reason: string, exit: string | null): void {
    const now = this.#o.now();
    proxy.lastError = reason;
    if (exit !== null) proxy.failedExit = exit;
    if (now >= proxy.retryAt) {
      proxy.failures++;
      proxy.retryAt = now + backoffMs(proxy.failures, this.#o.tuning.backoffInitialMs, this.#o.tuning.backoffMaxMs);
      this.#o.events.circuitFailed(proxy.spec.name, reason);
      this.#o.log.warn('packed proxy has no circuit', { proxy: proxy.spec.name, reason, failures: proxy.failures });
    }
    for (const slot of proxy.slots.values()) {
      for (const waiter of slot.waiting.splice(0)) this.#closeStream(waiter.streamId, proxy, reason);
    }
  }

  #drain(circuit: Circuit): void {
    circuit.state = 'draining';
    circuit.proxy.draining.add(circuit);
    if (circuit.streams.size === 0) this.#closeCircuit(circuit);
  }

  #closeCircuit(circuit: Circuit): void {
    if (circuit.closing) return;
    circuit.closing = true;
    this.#command(`CLOSECIRCUIT ${circuit.id}`).catch(() => {
      this.#onEnded(circuit, 'gone'); // tor no longer knows it: no CLOSED event will come
    });
  }

  #dropSlot(proxy: ProxyEntry, slot: Slot): void {
    proxy.slots.delete(slot.key);
    for (const circuit of [slot.current, slot.next]) if (circuit) this.#closeCircuit(circuit);
    for (const waiter of slot.waiting.splice(0)) this.#closeStream(waiter.streamId, proxy, 'its circuit was closed');
  }

  #remove(entry: ProxyEntry): void {
    this.#proxies.delete(entry.spec.name);
    if (this.#groups.get(entry.spec.sessionGroup) === entry) this.#groups.delete(entry.spec.sessionGroup);
    for (const slot of [...entry.slots.values()]) this.#dropSlot(entry, slot);
    for (const circuit of entry.draining) this.#closeCircuit(circuit);
  }

  // ---- the timer ----

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#o.now();
    const { tuning } = this.#o;
    if (this.#book.due) {
      void this.#readRelays().catch((error: unknown) => {
        this.#o.log.warn("could not read tor's relays", { error: errorMessage(error) });
      });
    }
    for (const proxy of this.#proxies.values()) {
      let main = proxy.slots.get(DEFAULT_KEY);
      if (!main) {
        main = newSlot(DEFAULT_KEY, now);
        proxy.slots.set(DEFAULT_KEY, main);
      }
      if (!main.current && !main.launching && now >= proxy.retryAt) this.#launch(proxy, main, 'current');
      for (const slot of [...proxy.slots.values()]) {
        for (const waiter of slot.waiting.filter((w) => w.deadline <= now)) {
          this.#closeStream(waiter.streamId, proxy, `its circuit was not built within ${tuning.streamWaitMs} ms`);
        }
        const current = slot.current;
        if (current?.state === 'building' && now - current.launchedAt > tuning.buildTimeoutMs) {
          slot.current = null;
          this.#closeCircuit(current);
          this.#fail(proxy, `circuit ${current.id} was not built within ${tuning.buildTimeoutMs} ms`, current.exit);
        }
        const next = slot.next;
        if (next?.state === 'building' && now - next.launchedAt > tuning.buildTimeoutMs) {
          slot.next = null;
          this.#closeCircuit(next);
          slot.renewRetryAt = now + tuning.backoffInitialMs;
        }
        if (
          slot.key !== DEFAULT_KEY &&
          busy(slot) === 0 &&
          !slot.waiting.length &&
          now - slot.lastUsedAt > tuning.idleCircuitMs
        ) {
          this.#dropSlot(proxy, slot);
          continue;
        }
        if (current?.state === 'built' && !slot.next && !slot.launching && now >= slot.renewRetryAt) {
          if (now >= current.builtAt + this.#renewAfterMs(proxy)) this.#launch(proxy, slot, 'next');
        }
      }
    }
  }

  #renewAfterMs(proxy: ProxyEntry): number {
    const renew = this.#dirtinessMs * this.#o.tuning.renewFraction;
    const rotate = proxy.spec.rotateEverySeconds;
    return rotate === null ? renew : Math.min(renew, rotate * 1000);
  }

  #setDirtiness(seconds: string | undefined): void {
    const value = Number(seconds);
    if (Number.isInteger(value) && value > 0) this.#dirtinessMs = value * 1000;
  }

  async #readRelays(): Promise<void> {
    await this.#book.read();
    if (this.#book.relays.size === 0) return;
    for (const proxy of this.#proxies.values()) {
      if (proxy.lastError === 'tor has no consensus yet') proxy.lastError = null;
    }
  }

  // ---- ports ----

  #desiredPorts(): { listen: string; sessionGroup: number }[] {
    return [...this.#proxies.values()].map((entry) => ({
      listen: entry.spec.listen,
      sessionGroup: entry.spec.sessionGroup,
    }));
  }

  readonly #portFailed = (listen: string, why: string): void => {
    const proxy = [...this.#proxies.values()].find((entry) => entry.spec.listen === listen);
    if (proxy) {
      this.#o.log.warn('tor could not open a packed proxy SocksPort', { proxy: proxy.spec.name, listen, error: why });
      for (const slot of proxy.slots.values()) {
        for (const waiter of slot.waiting.splice(0)) this.#closeStream(waiter.streamId, proxy, why);
      }
    }
  };

  #command(line: string, options?: { maxReplyBytes?: number; timeoutMs?: number }): Promise<ControlReply> {
    return this.#o.connection.command(line, options);
  }
}
