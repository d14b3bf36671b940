import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, TorfleetError } from '../errors.js';
import { validatePackedProxies, type PackedProxy } from '../packing/packed-proxy.js';
import type { ObservedProxy, ObservedSharedTor } from '../plan/plan-types.js';
import { writeFileAtomic } from './atomic-write.js';
import { PROXY_NAME, SHARED_TOR_UNIT, torUnitPaths } from './tor-unit-paths.js';

/** One packed proxy as the last apply left it: what `list()` reports of it, and what its controller serves. */
export interface PackedProxyRecord {
  readonly name: string;
  readonly pool: string;
  readonly specHash: string;
  readonly revision: string;
  readonly exitFingerprints: readonly string[];
  /** When this spec was first applied (ISO): a packed proxy's `since`. */
  readonly startedAt: string;
  /** Its controller's entry: SocksPort, session group, candidate exits. */
  readonly proxy: PackedProxy;
}

/** What a shared tor serves, kept beside its torrc: read again after a restart, before any pass has run. */
export interface PackedProxyFile {
  /** Its tor runs with TestingTorNetwork 1 (the controller's path rules allow one /16 per path then). */
  readonly testingNetwork: boolean;
  readonly proxies: readonly PackedProxyRecord[];
}

/** A recorded packed proxy as the runtime reports it: its shared tor's id and state, and that tor's name. */
export function observedPackedProxy(record: PackedProxyRecord, tor: ObservedSharedTor): ObservedProxy {
  return {
    name: record.name,
    pool: record.pool,
    id: tor.id,
    state: tor.state,
    specHash: record.specHash,
    exitFingerprints: record.exitFingerprints,
    revision: record.revision,
    startedAt: record.startedAt,
    sharedTor: tor.name,
  };
}

const FORMAT_VERSION = 1;
const FILE_NAME = 'proxies.json';
const FINGERPRINT = /^[0-9A-F]{40}$/;

/**
 * The packed proxies of every shared tor, one file each, `<stateDir>/shared-tors/<name>/proxies.json`, written
 * whole and atomically by the apply (a kill -9 leaves the old list or the new). Packed proxies are no runtime
 * objects of their own: this file is how they outlive a reconciler restart, and it is deleted with its shared
 * tor's directory when its pool stops packing or leaves the fleet.
 */
export class PackedProxyRecords {
  constructor(private readonly stateDir: string) {}

  file(tor: string): string {
    return path.join(torUnitPaths(this.stateDir, SHARED_TOR_UNIT, tor).dir, FILE_NAME);
  }

  /** Its file, or null when it has none yet. Throws a RUNTIME error naming the file when it cannot be used. */
  async read(tor: string): Promise<PackedProxyFile | null> {
    const file = this.file(tor);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new TorfleetError('RUNTIME', 'generic', `cannot read ${file}: ${errorMessage(error)}`);
    }
    try {
      return parseRecords(JSON.parse(text) as unknown, tor);
    } catch (error) {
      throw new TorfleetError(
        'RUNTIME',
        'generic',
        `${file} is not a list of packed proxies torfleet wrote (${errorMessage(error)}); the next pass rewrites it, or remove it`,
      );
    }
  }

  /** Replaces its file (the shared tor's directory exists: its runtime made it). */
  async write(tor: string, content: PackedProxyFile): Promise<void> {
    validatePackedProxies(content.proxies.map((record) => record.proxy));
    const text = `${JSON.stringify({ formatVersion: FORMAT_VERSION, ...content }, null, 1)}\n`;
    const file = this.file(tor);
    // Every pass rewrites every shared tor's list: unchanged, the file (and the disk) is left alone.
    if ((await readFile(file, 'utf8').catch(() => null)) === text) return;
    await writeFileAtomic(file, text, 0o600);
  }
}

/** Checks a file anyone with disk access could have written: every name, hash and fingerprint, then the list. */
function parseRecords(value: unknown, tor: string): PackedProxyFile {
  const file = value as Partial<{ formatVersion: unknown; testingNetwork: unknown; proxies: unknown }> | null;
  if (!file || file.formatVersion !== FORMAT_VERSION) throw new Error(`formatVersion is not ${FORMAT_VERSION}`);
  if (typeof file.testingNetwork !== 'boolean') throw new Error('testingNetwork is not true or false');
  if (!Array.isArray(file.proxies)) throw new Error('proxies is not a list');
  const pool = tor.replace(/-tor\d+$/, '');
  const proxies = file.proxies.map((entry: unknown, index): PackedProxyRecord => {
    const record = entry as Partial<Record<keyof PackedProxyRecord, unknown>> | null;
    const bad = (what: string): Error => new Error(`proxy ${index}: ${what}`);
    if (!record || typeof record.name !== 'string' || !PROXY_NAME.test(record.name)) throw bad('no proxy name');
    if (record.pool !== pool || !record.name.startsWith(`${pool}-`)) throw bad(`not of pool ${pool}`);
    for (const key of ['specHash', 'revision', 'startedAt'] as const) {
      if (typeof record[key] !== 'string' || record[key] === '') throw bad(`no ${key}`);
    }
    const fingerprints = record.exitFingerprints;
    if (!Array.isArray(fingerprints) || !fingerprints.every((f) => typeof f === 'string' && FINGERPRINT.test(f))) {
      throw bad('exitFingerprints are not fingerprints');
    }
    const proxy = record.proxy as PackedProxy | undefined;
    if (!proxy || typeof proxy !== 'object' || proxy.name !== record.name) throw bad('no controller entry');
    return record as PackedProxyRecord;
  });
  validatePackedProxies(proxies.map((record) => record.proxy));
  return { testingNetwork: file.testingNetwork, proxies };
}
