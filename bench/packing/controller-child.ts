/**
 * The packing controller in a Node process of its own (the bench's child: its RSS and CPU are the controller's,
 * plus Node's own floor, which the bench measures before the first proxy). `node controller-child.js DATA_DIR`;
 * driven over IPC, one request at a time with an id: `set` (setProxies), `status` (how many proxies have a built
 * circuit, the first errors), `usage` (its CPU and memory now, and the attach and build latencies since the last
 * `usage`), `stop`.
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../reconciler/src/logger.js';
import type { PackedProxy, PackingEvents } from '../../reconciler/src/packing/packed-proxy.js';
import { PackedTorController } from '../../reconciler/src/packing/packed-tor-controller.js';

export type ChildRequest =
  | { readonly id: number; readonly op: 'set'; readonly proxies: PackedProxy[] }
  | { readonly id: number; readonly op: 'status' }
  | { readonly id: number; readonly op: 'usage' }
  | { readonly id: number; readonly op: 'stop' };

export interface ChildStatus {
  readonly proxies: number;
  readonly built: number;
  readonly errors: string[];
}

export interface ChildUsage {
  /** process.cpuUsage(): user + system, µs. */
  readonly cpuUs: number;
  readonly vmRssKb: number;
  readonly rssAnonKb: number;
  /** Pss of /proc/self/smaps_rollup (see ProcMemory in packing-tors.ts). */
  readonly pssKb: number;
  readonly heapUsedKb: number;
  /** Seconds from STREAM NEW to ATTACHSTREAM answered, and EXTENDCIRCUIT to BUILT, since the last `usage`. */
  readonly attachSeconds: number[];
  readonly buildSeconds: number[];
  readonly failed: number;
  readonly refused: number;
}

const dataDirectory = process.argv[2] ?? '';
let attachSeconds: number[] = [];
let buildSeconds: number[] = [];
let failed = 0;
let refused = 0;
const events: PackingEvents = {
  circuitBuilt: (_proxy, seconds) => {
    buildSeconds.push(seconds);
  },
  circuitFailed: () => {
    failed++;
  },
  circuitRenewed: () => undefined,
  streamAttached: (_proxy, seconds) => {
    attachSeconds.push(seconds);
  },
  streamRefused: () => {
    refused++;
  },
};
const controller = new PackedTorController({
  dataDirectory,
  testingNetwork: true,
  log: silentLogger,
  events,
  name: 'bench',
});
const abort = new AbortController();
const running = controller.run({ signal: abort.signal, ready: () => undefined, log: silentLogger });

function usage(): ChildUsage {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const cpu = process.cpuUsage();
  const result: ChildUsage = {
    cpuUs: cpu.user + cpu.system,
    vmRssKb: kb('VmRSS'),
    rssAnonKb: kb('RssAnon'),
    pssKb: Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? NaN),
    heapUsedKb: Math.round(process.memoryUsage().heapUsed / 1024),
    attachSeconds,
    buildSeconds,
    failed,
    refused,
  };
  attachSeconds = [];
  buildSeconds = [];
  failed = 0;
  refused = 0;
  return result;
}

function status(): ChildStatus {
  const all = [...controller.status().values()];
  const errors = [...new Set(all.flatMap((s) => (s.lastError === null ? [] : [s.lastError])))].slice(0, 3);
  return { proxies: all.length, built: all.filter((s) => s.circuitBuilt).length, errors };
}

process.on('message', (message: ChildRequest) => {
  const reply = (value: unknown): void => {
    process.send?.({ id: message.id, value });
  };
  try {
    switch (message.op) {
      case 'set':
        controller.setProxies(message.proxies);
        reply(null);
        return;
      case 'status':
        reply(status());
        return;
      case 'usage':
        reply(usage());
        return;
      case 'stop':
        abort.abort();
        void running.then(() => {
          reply(null);
          process.disconnect();
        });
        return;
    }
  } catch (error) {
    process.send?.({ id: message.id, error: (error as Error).message });
  }
});
process.send?.({ id: 0, value: 'started' });
