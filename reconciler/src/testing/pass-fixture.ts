import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFileSource } from '../fleet-source/file-source.js';
import type { NodeSource } from '../nodes/node-source.js';
import { NodeStore } from '../nodes/node-store.js';
import type { Relay } from '../nodes/relay.js';
import { packageRoot } from '../package-root.js';
import type { PassDependencies } from '../reconcile/reconcile-pass.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { tempDir } from './temp-dir.js';

const TEMPLATE = readFileSync(path.join(packageRoot, 'templates', 'torrc.tmpl'), 'utf8');
const SHARED_TEMPLATE = readFileSync(path.join(packageRoot, 'templates', 'shared-torrc.tmpl'), 'utf8');
const T0 = new Date('2026-12-01T00:00:00Z');

/** Exit relay n (1-based) of the pass tests: US, running, its own /24. */
export const passRelay = (n: number): Relay => ({
  fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
  nickname: `relay${String(n)}`,
  orAddresses: [`198.51.${String(n)}.1:9001`],
  exitAddresses: [],
  country: 'US',
  asNumber: null,
  flags: ['Exit', 'Running', 'Valid'],
  running: true,
  exitPolicySummary: { accept: ['80', '443'] },
  firstSeen: null,
  lastSeen: null,
});

/** A real node store (SQLite) holding `relays` exits, a real fleet file (`fleetFile`) holding `fleet`, and `runtime`. */
export function passDependencies(
  fleet: string,
  runtime: ProxyRuntime,
  relays = 3,
  over: Partial<PassDependencies> = {},
): PassDependencies & { readonly fleetFile: string } {
  const dir = tempDir('dp-pass');
  writeFileSync(path.join(dir, 'fleet.yaml'), fleet);
  const store = NodeStore.open(path.join(dir, 'nodes.db'));
  const source: NodeSource = {
    name: 'onionoo',
    location: 'http://127.0.0.1:1',
    fetch: () => Promise.reject(new Error('unused')),
  };
  if (relays > 0) {
    store.storeSnapshot(
      source,
      { relaysPublished: T0, relays: Array.from({ length: relays }, (_, i) => passRelay(i + 1)) },
      null,
      T0,
      T0,
    );
  }
  return {
    fleetFile: path.join(dir, 'fleet.yaml'),
    source: createFileSource(path.join(dir, 'fleet.yaml')),
    store,
    runtime,
    template: TEMPLATE,
    sharedTemplate: SHARED_TEMPLATE,
    env: {},
    ...over,
  };
}

/** The text of templates/torrc.tmpl. */
export const torrcTemplate = (): string => TEMPLATE;
