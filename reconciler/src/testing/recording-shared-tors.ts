import { mkdirSync, rmSync } from 'node:fs';
import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import type { SharedTorRuntime } from '../runtime/shared-tor-runtime.js';
import { SHARED_TOR_UNIT, torUnitPaths } from '../runtime/tor-unit-paths.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';

/**
 * Shared tors in memory, for pass tests: every call recorded in order (`shared create packed-tor0`), any call made to
 * fail with failOn. Their directories are real (under `stateDir`, as the docker and process runtimes make
 * them), so the apply writes real records; no tor runs.
 */
export class RecordingSharedTors implements SharedTorRuntime {
  private readonly tors: ObservedSharedTor[] = [];
  private readonly failing = new Map<string, unknown>();
  private created = 0;

  /** `calls`: give a RecordingRuntime's to see both runtimes' calls in one order. */
  constructor(
    private readonly stateDir: string,
    readonly calls: string[] = [],
  ) {}

  failOn(call: string, error: unknown): this {
    this.failing.set(call, error);
    return this;
  }

  heal(call: string): this {
    this.failing.delete(call);
    return this;
  }

  /** The shared tors it holds, `name:id`, sorted. */
  holding(): string[] {
    return this.tors.map((tor) => `${tor.name}:${tor.id}`).sort();
  }

  listSharedTors(): Promise<ObservedSharedTor[]> {
    return Promise.resolve([...this.tors]);
  }

  sharedTorDataDirectory(name: string): string {
    return torUnitPaths(this.stateDir, SHARED_TOR_UNIT, name).dataDir;
  }

  sharedTorrcPaths(spec: SharedTorSpec): TorrcPaths {
    const dataDirectory = this.sharedTorDataDirectory(spec.name);
    return { dataDirectory, controlSocket: `${dataDirectory}/control`, geoipFile: null };
  }

  preflightSharedTor(spec: SharedTorSpec): Promise<void> {
    return this.record(`shared preflight ${spec.name}`, () => undefined);
  }

  createSharedTor(spec: SharedTorSpec, _torrc: string, _revision: string): Promise<ObservedSharedTor> {
    return this.record(`shared create ${spec.name}`, () => {
      mkdirSync(this.sharedTorDataDirectory(spec.name), { recursive: true });
      const tor: ObservedSharedTor = {
        name: spec.name,
        pool: spec.pool,
        id: `tor-${String(++this.created)}`,
        state: 'running',
        specHash: spec.specHash,
      };
      this.tors.push(tor);
      return tor;
    });
  }

  removeSharedTor(tor: ObservedSharedTor, { forget }: { forget: boolean }): Promise<void> {
    return this.record(`shared remove ${tor.name} ${forget ? 'forget' : 'keep'}`, () => {
      const at = this.tors.findIndex((t) => t.id === tor.id);
      if (at >= 0) this.tors.splice(at, 1);
      if (forget) rmSync(torUnitPaths(this.stateDir, SHARED_TOR_UNIT, tor.name).dir, { recursive: true, force: true });
    });
  }

  private async record<T>(call: string, action: () => T): Promise<T> {
    this.calls.push(call);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing.has(call)) throw this.failing.get(call);
    return action();
  }
}
