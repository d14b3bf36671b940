/** The packed pools bench alone: `npx tsc -p tsconfig.json && node dist/bench/packing-main.js`. */
import { benchPacking } from './packing/packing-bench.js';

await benchPacking();
