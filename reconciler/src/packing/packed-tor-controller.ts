import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunContext, Runnable } from '../service/runnable.js';
import { ControlConnection } from '../tor-control/control-connection.js';
import { ControllerSession } from './controller-session.js';
import { backoffMs, DEFAULT_TUNING, type ControllerTuning } from './controller-tuning.js';
import {
  NO_EVENTS,
  validatePackedProxies,
  type PackedProxy,
  type PackedProxyStatus,
  type PackingEvents,
} from './packed-proxy.js';
import type { Random } from './path-selection.js';

export interface PackedTorControllerOptions {
  /** The shared tor's data directory: its `control` socket and `control_auth_cookie` are there. */
  readonly dataDirectory: string;
  /** The tor runs with TestingTorNetwork 1: relays of one /16 may share a path (as tor itself allows there). */
  readonly testingNetwork: boolean;
  readonly log: Logger;
  readonly events?: PackingEvents;
  /** The runnable's name (a metric label); default `packing`. */
  readonly name?: string;
  readonly tuning?: Partial<ControllerTuning>;
  readonly random?: Random;
}

/**
 * The controller of one shared tor (spec/packing.md), run as a Runnable inside `torfleet run`: it connects to the
 * tor's ControlSocket, takes it over (ControllerSession.start), and serves `setProxies`' list until stopped;
 * when the connection ends it reconnects with a growing delay and starts clean. Fails closed: while no
 * controller is connected, tor attaches no stream at all (`__LeaveStreamsUnattached 1`), so no stream ever
 * leaves through an exit that is not its proxy's.
 */
export class PackedTorController implements Runnable {
  readonly name: string;
  readonly #options: PackedTorControllerOptions;
  readonly #tuning: ControllerTuning;
  #proxies: readonly PackedProxy[] = [];
  #session: ControllerSession | null = null;
  #disconnected = 'not connected to its tor yet';

  constructor(options: PackedTorControllerOptions) {
    this.#options = options;
    this.name = options.name ?? 'packing';
    this.#tuning = { ...DEFAULT_TUNING, ...options.tuning };
  }

  /** The whole list of proxies this tor serves; throws FLEET_INVALID on a bad one (and keeps the previous list). */
  setProxies(proxies: readonly PackedProxy[]): void {
    validatePackedProxies(proxies);
    this.#proxies = proxies.map((proxy) => ({ ...proxy, exits: [...proxy.exits] }));
    this.#session?.setProxies(this.#proxies);
  }

  /** Connected to its tor and serving: streams are attached (or refused) by this controller. */
  connected(): boolean {
    return this.#session !== null;
  }

  status(): ReadonlyMap<string, PackedProxyStatus> {
    const live = this.#session?.status();
    if (live) return live;
    return new Map(this.#proxies.map((proxy) => [proxy.name, this.#down()]));
  }

  /** One proxy's entry of status(); null when it serves no such proxy. */
  statusOf(name: string): PackedProxyStatus | null {
    if (this.#session) return this.#session.statusOf(name);
    return this.#proxies.some((proxy) => proxy.name === name) ? this.#down() : null;
  }

  /** A proxy's status while no session runs: no circuit, and why. */
  #down(): PackedProxyStatus {
    return {
      circuitBuilt: false,
      circuitId: null,
      exit: null,
      attachedStreams: 0,
      lastError: this.#disconnected,
      since: null,
    };
  }

  async run({ signal, ready, log }: RunContext): Promise<void> {
    ready(); // the controller serves by trying: the rest of `run` must not wait for a tor that may be starting
    const dir = this.#options.dataDirectory;
    let attempt = 0;
    const stopped = (): boolean => signal.aborted; // read afresh after each await
    while (!stopped()) {
      let connection: ControlConnection | null = null;
      let session: ControllerSession | null = null;
      try {
        connection = await ControlConnection.open({
          socketPath: path.join(dir, 'control'),
          cookieFile: path.join(dir, 'control_auth_cookie'),
          onEvent: (event) => {
            session?.onEvent(event);
          },
          onEventError: (error) => {
            log.error('a tor event could not be handled', { error: errorMessage(error) });
          },
        });
        const opened = connection;
        session = new ControllerSession({
          connection: opened,
          dataDirectory: dir,
          rules: { testingNetwork: this.#options.testingNetwork },
          log,
          events: this.#options.events ?? NO_EVENTS,
          tuning: this.#tuning,
          random: this.#options.random ?? Math.random,
          now: Date.now,
        });
        const stop = (): void => {
          opened.close();
        };
        signal.addEventListener('abort', stop, { once: true });
        try {
          this.#session = session; // setProxies during the start reaches it
          await session.start(this.#proxies);
          attempt = 0;
          log.info('controlling the shared tor', { dataDirectory: dir, proxies: this.#proxies.length });
          const why = await opened.closed;
          if (!stopped()) throw why;
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (error) {
        if (stopped()) break;
        this.#disconnected = `no control connection to its tor: ${errorMessage(error)}`;
        log.warn('the shared tor control connection ended', { error: errorMessage(error) });
      } finally {
        session?.stop();
        connection?.close();
        if (this.#session === session) this.#session = null;
      }
      attempt++;
      await sleep(backoffMs(attempt, this.#tuning.reconnectInitialMs, 30_000), signal);
    }
    this.#disconnected = 'its controller is stopped';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
