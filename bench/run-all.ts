/** `npm run bench`: every benchmark, figures printed as Markdown tables (copy them into BENCHMARKS.md). */
import os from 'node:os';
import { benchApplyDocker } from './apply-docker.js';
import { benchBroker } from './broker/broker-bench.js';
import { benchCommitToRunning } from './commit-to-running.js';
import { benchComputePlan } from './compute-plan.js';
import { benchContent } from './content/content-bench.js';
import { benchGatewayProxies } from './gateway-proxies.js';
import { benchNodeRefresh } from './node-refresh.js';
import { benchCommitToTraffic } from './packing/commit-to-traffic.js';
import { benchPacking } from './packing/packing-bench.js';

console.log(`# torfleet benchmarks — ${new Date().toISOString()}`);
console.log(
  `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
);
await benchNodeRefresh();
benchComputePlan();
await benchApplyDocker();
await benchCommitToRunning();
await benchGatewayProxies();
await benchBroker();
await benchContent();
await benchPacking();
await benchCommitToTraffic();
