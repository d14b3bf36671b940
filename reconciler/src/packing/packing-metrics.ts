import { Counter, Histogram, type Registry } from 'prom-client';
import type { PackingEvents } from './packed-proxy.js';

/** The pool of a packed proxy named `POOL-i`. */
export function poolOf(proxy: string): string {
  return proxy.replace(/-\d+$/, '');
}

/**
 * The controllers' metrics, by pool only (a shared tor serves up to 1,000 proxies: a proxy label would be 1,000
 * series per metric). `pools` are the packed pools known at start, whose series start at 0; a refused stream of
 * no known session group counts under pool `unknown`.
 */
export function registerPackingMetrics(
  registry: Registry,
  pools: readonly string[],
): PackingEvents & { readonly knowPool: (pool: string) => void } {
  const registers = [registry];
  const labelNames = ['pool'];
  const built = new Counter({
    name: 'torfleet_packed_circuits_built_total',
    help: 'Circuits the packing controllers built for packed proxies.',
    labelNames,
    registers,
  });
  const failed = new Counter({
    name: 'torfleet_packed_circuits_failed_total',
    help: 'Packed proxy circuits that failed to build or were torn down (an exit down, a build timeout, ...).',
    labelNames,
    registers,
  });
  const renewed = new Counter({
    name: 'torfleet_packed_circuits_renewed_total',
    help: 'Packed proxy circuits replaced make-before-break (renewal before expiry, rotation).',
    labelNames,
    registers,
  });
  const refused = new Counter({
    name: 'torfleet_packed_streams_refused_total',
    help: 'Client streams a packing controller closed instead of attaching (exit down, unknown session group, ...).',
    labelNames,
    registers,
  });
  const attach = new Histogram({
    name: 'torfleet_packed_attach_duration_seconds',
    help: "From tor's STREAM NEW event to ATTACHSTREAM's answer (waiting for a circuit included).",
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const build = new Histogram({
    name: 'torfleet_packed_circuit_build_duration_seconds',
    help: 'From EXTENDCIRCUIT to the circuit BUILT event.',
    labelNames,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers,
  });
  const known = new Set<string>();
  const knowPool = (pool: string): void => {
    if (known.has(pool)) return;
    known.add(pool);
    for (const counter of [built, failed, renewed, refused]) counter.inc({ pool }, 0);
    attach.zero({ pool });
    build.zero({ pool });
  };
  pools.forEach(knowPool);
  return {
    /** A packed pool seen after the start (its first shared tor): its series start at 0 from now on. */
    knowPool,
    circuitBuilt(proxy, seconds) {
      built.inc({ pool: poolOf(proxy) });
      build.observe({ pool: poolOf(proxy) }, seconds);
    },
    circuitFailed(proxy) {
      failed.inc({ pool: poolOf(proxy) });
    },
    circuitRenewed(proxy) {
      renewed.inc({ pool: poolOf(proxy) });
    },
    streamAttached(proxy, seconds) {
      attach.observe({ pool: poolOf(proxy) }, seconds);
    },
    streamRefused(proxy) {
      refused.inc({ pool: proxy === null ? 'unknown' : poolOf(proxy) });
    },
  };
}
