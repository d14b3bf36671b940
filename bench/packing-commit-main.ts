/**
 * Commit → traffic through `torfleet run` alone: `npx tsc -p tsconfig.json && node dist/bench/packing-commit-main.js
 * [process|docker ...]` (both runtimes when none is named).
 */
import { benchCommitToTraffic } from './packing/commit-to-traffic.js';

const named = process.argv.slice(2).filter((a): a is 'process' | 'docker' => a === 'process' || a === 'docker');
await benchCommitToTraffic(named.length > 0 ? named : undefined);
