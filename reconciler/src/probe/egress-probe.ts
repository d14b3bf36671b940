import { isIP } from 'node:net';
import { errorMessage } from '../errors.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { fetchThroughSocks } from './socks-fetch.js';

export type EgressResult = 'ok' | 'mismatch' | 'failed';

/** The last egress check of a proxy, as `GET /proxies` shows it. */
export interface EgressCheck {
  readonly result: EgressResult;
  /** The address the check URL saw the request come from. */
  readonly address: string | null;
  readonly checkedAt: string;
  readonly message: string;
}

export interface ProbeOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Consecutive failed checks after which a pinned proxy's exits are set aside. */
  readonly failuresToQuarantine: number;
  readonly quarantineMs: number;
  readonly now?: () => Date;
}

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

/**
 * Checks each proxy's egress through its own SOCKS port and remembers the last check. A pinned proxy that
 * fails `failuresToQuarantine` checks in a row has its exits quarantined for a while, so the next plan
 * re-pins it elsewhere (an exit that died may stay "Running" in the consensus for hours).
 */
export class EgressProber {
  private readonly checks = new Map<string, EgressCheck>();
  private readonly failures = new Map<string, number>();
  private readonly quarantine = new Map<string, number>();
  private readonly now: () => Date;

  constructor(private readonly options: ProbeOptions) {
    this.now = options.now ?? (() => new Date());
  }

  check(proxy: string): EgressCheck | null {
    return this.checks.get(proxy) ?? null;
  }

  /** Exits set aside now (fingerprints). */
  quarantined(): ReadonlySet<string> {
    const now = this.now().getTime();
    for (const [fingerprint, until] of this.quarantine) if (until <= now) this.quarantine.delete(fingerprint);
    return new Set(this.quarantine.keys());
  }

  /** Probes every proxy (4 at a time); resolves with true when an exit was newly quarantined. */
  async probe(specs: readonly ProxySpec[]): Promise<boolean> {
    let quarantinedNew = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < specs.length) {
        const spec = specs[next++] as ProxySpec;
        const check = await this.probeOne(spec);
        this.checks.set(spec.name, check);
        const failures = check.result === 'failed' ? (this.failures.get(spec.name) ?? 0) + 1 : 0;
        this.failures.set(spec.name, failures);
        if (failures >= this.options.failuresToQuarantine && spec.exits.fingerprints.length > 0) {
          for (const fingerprint of spec.exits.fingerprints) {
            if (!this.quarantine.has(fingerprint)) quarantinedNew = true;
            this.quarantine.set(fingerprint, this.now().getTime() + this.options.quarantineMs);
          }
          this.failures.set(spec.name, 0);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, specs.length) }, worker));
    return quarantinedNew;
  }

  private async probeOne(spec: ProxySpec): Promise<EgressCheck> {
    const checkedAt = this.now().toISOString();
    const host = spec.bind === '0.0.0.0' ? '127.0.0.1' : spec.bind === '::' ? '::1' : spec.bind;
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
