import { forEachConcurrently } from '../concurrency/for-each-concurrently.js';
import { errorMessage } from '../errors.js';
import type { PackedProxyStatus } from '../packing/packed-proxy.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import type { TorHealth } from '../tor-control/control-client.js';

/** A proxy's health as `GET /proxies` shows it: what its tor said on its ControlSocket at `checkedAt`. */
export interface ProxyHealth {
  /** Bootstrap progress in percent (100: bootstrapped); null when its tor did not answer. */
  readonly bootstrap: number | null;
  readonly circuitEstablished: boolean;
  readonly checkedAt: string;
  /** The bootstrap phase's tag and summary (`conn_done`, "Connected to a relay"); null without an answer. */
  readonly tag: string | null;
  readonly summary: string | null;
  /** tor's own words when bootstrapping hit a problem, or null. */
  readonly problem: string | null;
  /** tor's own view that the network is reachable (`network-liveness`): false while DisableNetwork 1 and
   * while no relay answers; null without an answer. */
  readonly networkLive: boolean | null;
  /** Why its tor did not answer (no cookie yet, no answer within the timeout, ...), or null. */
  readonly error: string | null;
  /**
   * A packed proxy: its circuit as its shared tor's controller reports it (the fields above are the shared
   * tor's, `circuitEstablished` this proxy's own circuit); absent for a proxy with a tor of its own.
   */
  readonly circuit?: PackedProxyStatus | null;
}

export interface HealthCheckerOptions {
  /**
   * Asks one proxy's tor (torHealth on its data directory), or with `sharedTor` that shared tor (packed
   * proxies; read once per round for all it serves). May throw: a tor that does not answer.
   */
  readonly read: (proxy: string, sharedTor: string | null) => Promise<TorHealth>;
  /** A packed proxy's circuit, from its controller; null when none serves it. */
  readonly circuit?: (proxy: string) => PackedProxyStatus | null;
  /** ControlSockets read at once. */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

/**
 * The last health of every running proxy, read through its ControlSocket. `check` never throws: a tor
 * that does not answer is a result (`bootstrap: null` with the reason). Proxies no longer running are
 * forgotten (their health would be stale).
 */
export class HealthChecker {
  private readonly last = new Map<string, { readonly instance: string; readonly health: ProxyHealth }>();
  private readonly now: () => Date;

  constructor(private readonly options: HealthCheckerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The last health of a proxy; with `instance`, only if it was read from that instance (a replaced or
   * recreated proxy shows no health until its new tor is checked, never its predecessor's).
   */
  health(proxy: string, instance?: string): ProxyHealth | null {
    const last = this.last.get(proxy);
    return last && (instance === undefined || last.instance === instance) ? last.health : null;
  }

  /** Checks every running proxy of `observed`, a few at a time; resolves with what was seen. */
  async check(observed: readonly ObservedProxy[]): Promise<ReadonlyMap<string, ProxyHealth>> {
    const running = observed.filter((proxy) => proxy.state === 'running');
    const seen = new Map<string, ProxyHealth>();
    const instances = new Map(running.map((proxy) => [proxy.name, proxy.id]));
    // A shared tor answers once per round for every packed proxy it serves.
    const shared = new Map<string, Promise<TorHealth>>();
    const read = (proxy: ObservedProxy): Promise<TorHealth> => {
      const tor = proxy.sharedTor;
      if (!tor) return this.options.read(proxy.name, null);
      let answer = shared.get(tor);
      if (!answer) shared.set(tor, (answer = this.options.read(proxy.name, tor)));
      return answer;
    };
    // checkOne never throws, so every running proxy is checked.
    await forEachConcurrently(running, this.options.concurrency ?? 8, async (proxy) => {
      seen.set(proxy.name, await this.checkOne(proxy, read));
    });
    this.last.clear();
    for (const [proxy, health] of seen) this.last.set(proxy, { instance: instances.get(proxy) ?? '', health });
    return seen;
  }

  private async checkOne(
    proxy: ObservedProxy,
    read: (proxy: ObservedProxy) => Promise<TorHealth>,
  ): Promise<ProxyHealth> {
    const { node, nodeAddress } = proxy;
    const circuit = proxy.sharedTor ? { circuit: this.options.circuit?.(proxy.name) ?? null } : {};
    try {
      // Its ControlSocket is a Unix socket on that node: nothing here can read it (the egress check reaches it).
      if (nodeAddress) throw new Error(remoteTorWords(node ?? nodeAddress, nodeAddress));
      const tor = await read(proxy);
      return {
        bootstrap: tor.bootstrapProgress,
        circuitEstablished: proxy.sharedTor ? circuit.circuit?.circuitBuilt === true : tor.circuitEstablished,
        checkedAt: this.now().toISOString(),
        tag: tor.bootstrapTag,
        summary: tor.bootstrapSummary,
        problem: tor.bootstrapProblem,
        networkLive: tor.networkEnabled,
        error: null,
        ...circuit,
      };
    } catch (error) {
      return {
        bootstrap: null,
        circuitEstablished: false,
        checkedAt: this.now().toISOString(),
        tag: null,
        summary: null,
        problem: null,
        networkLive: null,
        error: errorMessage(error),
        ...circuit,
      };
    }
  }
}

/** Why a proxy on another swarm node shows no health or diagnosis from its tor. */
export function remoteTorWords(node: string, nodeAddress: string): string {
  return `it runs on swarm node ${node} (${nodeAddress}): its tor's ControlSocket and log are on that node, not readable from here; the egress check reaches it at that address`;
}
