/** The broker bench alone: `npx tsc -p tsconfig.json && node dist/bench/broker-main.js`. */
import { benchBroker } from './broker/broker-bench.js';

await benchBroker();
