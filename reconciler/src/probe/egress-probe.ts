import { isIP } from 'node:net';
import { forEachConcurrently } from '../concurrency/for-each-concurrently.js';
import { errorMessage } from '../errors.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { proxyDialHost } from '../runtime/proxy-address.js';
import { blamesExit, describeBootstrap, type EgressDiagnosis } from './egress-diagnosis.js';
import { fetchThroughSocks } from './socks-fetch.js';

export type EgressResult = 'ok' | 'mismatch' | 'failed';

/** The last egress check of a proxy, as `GET /proxies` shows it. */
export interface EgressCheck {
  readonly result: EgressResult;
  /** The address the check URL saw the request come from. */
  readonly address: string | null;
  readonly checkedAt: string;
  readonly message: string;
  /** False from a check that did not pass until one passes. */
  readonly healthy: boolean;
  /** Checks in a row that did not pass (0 after one that did). */
  readonly consecutiveFailures: number;
  /** When it is checked again: one probe interval on, sooner after a failure (backoff). */
  readonly nextCheckAt: string;
  /** Its tor's bootstrap state and log tail when the check did not pass; null when it did. */
  readonly diagnosis: EgressDiagnosis | null;
}

export interface ProbeOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** How often a healthy proxy is checked. */
  readonly intervalMs: number;
  /** The first retry after a failed check; it doubles up to `intervalMs`. */
  readonly retryBaseMs?: number;
  /** Failed checks in a row, through a tor that had bootstrapped, after which a pinned proxy's exits are avoided. */
  readonly failuresToQuarantine: number;
  readonly quarantineMs: number;
  /** What the proxy's tor says of itself (ControlSocket, log) after a check that did not pass. */
  readonly diagnose?: (spec: ProxySpec) => Promise<EgressDiagnosis>;
  /** The node address of a proxy on another swarm node (ProxyLocations); absent or null: this host. */
  readonly nodeAddress?: (proxy: string) => string | null;
  readonly now?: () => Date;
}

export const DEFAULT_RETRY_BASE_MS = 15_000;

/** `{"IP": "..."}` (check.torproject.org/api/ip), `{"ip": ...}`, or a bare address as plain text. */
export function parseEgressAddress(body: string): string | undefined {
  const text = body.trim();
  if (isIP(text)) return text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const address = json.IP ?? json.ip;
    return typeof address === 'string' && isIP(address) ? address : undefined;
  } catch {
    return undefined;
  }
}

/** After `failures` failed checks in a row: the base delay doubling, at most one interval. */
export function retryDelayMs(failures: number, baseMs: number, intervalMs: number): number {
  if (failures <= 0) return intervalMs;
  return Math.min(intervalMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

interface ProxyState {
  readonly specHash: string;
  readonly check: EgressCheck;
  /** Failed checks in a row that blame the exit (its tor had bootstrapped). */
  readonly blamed: number;
}

/**
 * Checks each proxy's egress through its own SOCKS port, each on its own schedule: every interval while it
 * passes, with a doubling backoff after a failure. A pinned proxy that fails `failuresToQuarantine` checks
 * in a row through a fully bootstrapped tor has its exits quarantined for a while: the planner then avoids
 * them (moves the proxy only if another eligible exit is free; never deletes it). A check that passes
 * lifts its exits' quarantine. A changed spec (re-pinned, replaced) starts afresh and is checked at once.
 */
export class EgressProber {
  private readonly states = new Map<string, ProxyState>();
  private readonly quarantine = new Map<string, number>();
  private readonly now: () => Date;
  private readonly retryBaseMs: number;

  constructor(private readonly options: ProbeOptions) {
    this.now = options.now ?? (() => new Date());
    this.retryBaseMs = Math.min(options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, options.intervalMs);
  }

  /** How often the caller should offer proxies to `probe`: the shortest delay a check can be due in. */
  get tickMs(): number {
    return Math.max(250, this.retryBaseMs);
  }

  check(proxy: string): EgressCheck | null {
    return this.states.get(proxy)?.check ?? null;
  }

  /** Exits avoided now (fingerprints). */
  quarantined(): ReadonlySet<string> {
    const now = this.now().getTime();
    for (const [fingerprint, until] of this.quarantine) if (until <= now) this.quarantine.delete(fingerprint);
    return new Set(this.quarantine.keys());
  }

  /**
   * Checks the proxies that are due (4 at a time). Resolves with the checks made and whether an exit was
   * newly quarantined or released (the plan may change).
   */
  async probe(specs: readonly ProxySpec[]): Promise<{ checked: ProbedCheck[]; quarantineChanged: boolean }> {
    const now = this.now().getTime();
    const due = specs.filter((spec) => {
      const state = this.states.get(spec.name);
      return !state || state.specHash !== spec.specHash || Date.parse(state.check.nextCheckAt) <= now;
    });
    const checked: ProbedCheck[] = [];
    let quarantineChanged = false;
    await forEachConcurrently(due, 4, async (spec) => {
      const { check, changed } = await this.checkOne(spec);
      checked.push({ proxy: spec.name, check });
      quarantineChanged ||= changed;
    });
    return { checked, quarantineChanged };
  }

  private async checkOne(spec: ProxySpec): Promise<{ check: EgressCheck; changed: boolean }> {
    // A changed spec (re-pinned, replaced) carries nothing over.
    const previous = this.states.get(spec.name);
    const carried = previous?.specHash === spec.specHash ? previous : undefined;
    const attempt = await this.attempt(spec);
    const failures = attempt.result === 'ok' ? 0 : (carried?.check.consecutiveFailures ?? 0) + 1;
    const diagnosis = attempt.result === 'ok' ? null : await this.diagnose(spec);
    const blame = attempt.result === 'failed' && blamesExit(diagnosis);
    let blamed = blame ? (carried?.blamed ?? 0) + 1 : 0;
    let changed = false;
    const pinned = spec.exits.fingerprints;
    if (blamed >= this.options.failuresToQuarantine && pinned.length > 0) {
      const until = this.now().getTime() + this.options.quarantineMs;
      for (const fingerprint of pinned) {
        if (!this.quarantine.has(fingerprint)) changed = true;
        this.quarantine.set(fingerprint, until);
      }
      blamed = 0;
    } else if (attempt.result === 'ok') {
      for (const fingerprint of pinned) if (this.quarantine.delete(fingerprint)) changed = true;
    }
    const nextCheckAt = new Date(
      this.now().getTime() + retryDelayMs(failures, this.retryBaseMs, this.options.intervalMs),
    ).toISOString();
    const message =
      diagnosis && attempt.result === 'failed'
        ? `${attempt.message}; ${describeBootstrap(diagnosis)}${blame ? '' : ' (the exit is not blamed)'}`
        : attempt.message;
    const check: EgressCheck = {
      ...attempt,
      message,
      healthy: attempt.result === 'ok',
      consecutiveFailures: failures,
      nextCheckAt,
      diagnosis,
    };
    this.states.set(spec.name, { specHash: spec.specHash, check, blamed });
    return { check, changed };
  }

  private async diagnose(spec: ProxySpec): Promise<EgressDiagnosis | null> {
    if (!this.options.diagnose) return null;
    try {
      return await this.options.diagnose(spec);
    } catch (error) {
      return { bootstrap: null, bootstrapError: errorMessage(error), logTail: [] };
    }
  }

  private async attempt(spec: ProxySpec): Promise<Pick<EgressCheck, 'result' | 'address' | 'checkedAt' | 'message'>> {
    const checkedAt = this.now().toISOString();
    const host = proxyDialHost(spec.bind, this.options.nodeAddress?.(spec.name));
    try {
      const { status, body } = await fetchThroughSocks(
        { host, port: spec.port },
        this.options.url,
        this.options.timeoutMs,
      );
      const address = parseEgressAddress(body);
      if (status !== 200 || !address) {
        return {
          result: 'failed',
          address: null,
          checkedAt,
          message: `the check URL answered HTTP ${status} without an address`,
        };
      }
      const pinned = spec.exits.addresses;
      if (pinned.length > 0 && !pinned.includes(address)) {
        return {
          result: 'mismatch',
          address,
          checkedAt,
          message: `traffic left from ${address}, not from the pinned exit (${pinned.join(', ')})`,
        };
      }
      return { result: 'ok', address, checkedAt, message: '' };
    } catch (error) {
      return { result: 'failed', address: null, checkedAt, message: errorMessage(error) };
    }
  }
}

export interface ProbedCheck {
  readonly proxy: string;
  readonly check: EgressCheck;
}
