import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from './node-flags.js';

const COMPILER_FLAGS = /(^|\s)--(no-)?(turbofan|opt|maglev|sparkplug|jitless)\b/;

/** True unless the command line or NODE_OPTIONS already says how V8 compiles (theirs wins). */
export function mayHoldCompiler(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return !nodeFlagGiven(COMPILER_FLAGS, execArgv, nodeOptions);
}

let held = false;

/**
 * V8's optimizing compiler (TurboFan) held off from the start of `torfleet gateway` until its first connection.
 * At start, resolving its ~100 modules makes the ESM loader's URL helpers hot, and the fleet watch's first look at
 * the fleet file's directory does the same to node's path code when the directory is big or its path long;
 * optimizing either pages in ~3.4 MB of the compiler's own code, which an idle gateway then keeps (idle VmRSS
 * 55.7 → 51.8 MB, measured; BENCHMARKS.md). An idle gateway needs no optimized code; from the first connection
 * on, everything is optimized as usual (measured: the same CPU per tunnel after warm-up). V8 reads the flag each
 * time a function gets hot, as it does the semi-space growth factor (gateway-heap.ts).
 */
export function holdOptimizingCompiler(): void {
  if (held || !mayHoldCompiler(process.execArgv, process.env.NODE_OPTIONS)) return;
  setFlagsFromString('--no-turbofan');
  held = true;
}

/** The compiler on again (nothing when it was not held). */
export function releaseOptimizingCompiler(): void {
  if (!held) return;
  held = false;
  setFlagsFromString('--turbofan');
}
