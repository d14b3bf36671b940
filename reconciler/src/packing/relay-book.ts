import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { getinfoLines, type ControlReply } from '../tor-control/control-connection.js';
import type { ControllerTuning } from './controller-tuning.js';
import { guardStateFile, readGuards, writeGuards } from './guard-state.js';
import { chooseGuards, type PathRules, type Random } from './path-selection.js';
import { familyOf, parseNetworkStatus, type Relay } from './relay-list.js';

export interface RelayBookOptions {
  readonly command: (line: string, options?: { maxReplyBytes?: number; timeoutMs?: number }) => Promise<ControlReply>;
  readonly dataDirectory: string;
  readonly rules: PathRules;
  readonly log: Logger;
  readonly tuning: ControllerTuning;
  readonly random: Random;
  readonly now: () => number;
}

/**
 * The relays the shared tor knows (its consensus, `GETINFO ns/all`, with the families of their microdescriptors)
 * and the controller's guards, kept in the tor's data directory so a restarted controller keeps them. Read again
 * every relayRefreshMs, or sooner when asked (`soon`: a proxy's exits are missing from the list).
 */
export class RelayBook {
  readonly #o: RelayBookOptions;
  #relays: ReadonlyMap<string, Relay> = new Map();
  #guards: string[] = [];
  #dueAt = 0;
  #loading = false;

  constructor(options: RelayBookOptions) {
    this.#o = options;
  }

  get relays(): ReadonlyMap<string, Relay> {
    return this.#relays;
  }

  get guards(): readonly string[] {
    return this.#guards;
  }

  /** The guards of an earlier controller of this tor, before the first read. */
  async readSavedGuards(): Promise<void> {
    this.#guards = await readGuards(guardStateFile(this.#o.dataDirectory));
  }

  /** Whether a read is due now (and none is on its way). */
  get due(): boolean {
    return !this.#loading && this.#o.now() >= this.#dueAt;
  }

  /** Read again within `ms`, not in relayRefreshMs. */
  soon(ms: number): void {
    this.#dueAt = Math.min(this.#dueAt, this.#o.now() + ms);
  }

  async read(): Promise<void> {
    this.#loading = true;
    try {
      const { command, tuning, rules, random } = this.#o;
      const reply = await command('GETINFO ns/all', { maxReplyBytes: 32 * 1024 * 1024, timeoutMs: 30_000 });
      const relays = parseNetworkStatus(getinfoLines(reply, 'ns/all'));
      const running = relays.filter((relay) => relay.flags.has('Running'));
      const families = new Map<string, Set<string>>();
      for (let at = 0; at < running.length; at += 100) {
        const batch = running.slice(at, at + 100);
        const answer = await command(`GETINFO ${batch.map((relay) => `md/id/${relay.fingerprint}`).join(' ')}`, {
          maxReplyBytes: 8 * 1024 * 1024,
        }).catch(() => null); // no microdescriptor yet for one of them: no families this round
        for (const line of answer?.lines ?? []) {
          const fingerprint = /^md\/id\/([0-9A-F]{40})=/.exec(line.text)?.[1];
          if (fingerprint !== undefined && line.data) families.set(fingerprint, familyOf(line.data));
        }
      }
      this.#relays = new Map(
        relays.map((relay) => [
          relay.fingerprint,
          { ...relay, family: families.get(relay.fingerprint) ?? relay.family },
        ]),
      );
      this.#dueAt = this.#o.now() + (relays.length === 0 ? 1000 : tuning.relayRefreshMs);
      const guards = chooseGuards(this.#relays, this.#guards, rules, random);
      if (guards.join() !== this.#guards.join() && guards.length > 0) {
        this.#guards = guards;
        await writeGuards(guardStateFile(this.#o.dataDirectory), guards).catch((error: unknown) => {
          this.#o.log.warn('could not save the guards (they are kept in memory)', { error: errorMessage(error) });
        });
      }
    } finally {
      this.#loading = false;
    }
  }
}
