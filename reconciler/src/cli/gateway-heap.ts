import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from './node-flags.js';

/**
 * The gateway's young generation (V8's new space) is capped at two 2 MB semi-spaces instead of V8's
 * 2 × 16 MB: at 1,000 held tunnels after a load, RSS is dominated by a grown new space and what it
 * promoted (see the commit for the figures). `--max-semi-space-size` sets the ceiling only at the start of
 * the process (set later it is ignored, measured), and the bench and the docs start the gateway as
 * `node main.js gateway`, where no flag can be given. `--semi-space-growth-factor` is read each time new
 * space grows, so: new space starts at 2 × 1 MB, grows as V8 decides, and once it has reached 2 × 2 MB the
 * factor becomes 1 and it grows no more. Smaller (2 × 1 MB) costs more scavenging under load (measured).
 * The check runs from a GC observer, whose entries arrive a turn of the event loop after the GC: one more
 * growth step (to 2 × 4 MB) can slip in before it (measured: the gateway under 50 tunnels in flight stopped
 * at 2 × 2 MB; the test's allocation bursts at 2 × 4 MB; V8's own ceiling is 2 × 16 MB).
 */
export const SEMI_SPACE_MB = 2;

const YOUNG_GENERATION_FLAGS = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/** True unless the command line or NODE_OPTIONS already sizes the young generation (theirs wins). */
export function capYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return !nodeFlagGiven(YOUNG_GENERATION_FLAGS, execArgv, nodeOptions);
}

const newSpaceBytes = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

/** Stops new space growing once it holds two `semiSpaceMb` semi-spaces (checked after each GC until then). */
export function capNewSpace(semiSpaceMb: number): void {
  const cap = 2 * semiSpaceMb * 1024 * 1024;
  const reached = (): boolean => {
    if (newSpaceBytes() < cap) return false;
    setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  };
  if (reached()) return;
  const observer = new PerformanceObserver(() => {
    if (reached()) observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

// imported first by gateway-command.ts, so this runs before the gateway's modules load
if (capYoungGeneration(process.execArgv, process.env.NODE_OPTIONS)) capNewSpace(SEMI_SPACE_MB);
