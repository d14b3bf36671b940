/**
 * Bench only: torfleet's gateway as `torfleet run` would host it, with a main thread that is busy.
 * usage: node gateway-stall-host.js PORT SOCKS_PORT main|worker BUSY_MS
 * `main`: GatewayService on this thread (what `torfleet gateway` does); `worker`: GatewayThread (what `run` does).
 * Every second the main thread runs a synchronous loop of BUSY_MS (a node refresh parsing JSON, a SQLite write).
 */
import { GatewayService } from '../../reconciler/src/gateway/gateway-service.js';
import { GatewayThread } from '../../reconciler/src/gateway/gateway-thread.js';
import type { GatewayInput } from '../../reconciler/src/gateway/gateway-input.js';
import { silentLogger } from '../../reconciler/src/logger.js';

const [port, socksPort, mode, busy] = process.argv.slice(2);
const listen = { host: '127.0.0.1', port: Number(port) };
const input: GatewayInput = {
  pools: [],
  gateway: {
    listen,
    token: null,
    default: 'socks',
    upstreams: [{ name: 'socks', protocol: 'socks5', host: '127.0.0.1', port: Number(socksPort), auth: null }],
    corporate: null,
  },
  exitCountries: {},
  nodeAddresses: {},
  corporate: true,
};
const host = mode === 'worker' ? new GatewayThread({ level: 'error' }) : new GatewayService({ log: silentLogger });
await host.start(listen, input);
const busyMs = Number(busy);
if (busyMs > 0) {
  setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until); // the main thread does reconcile work
  }, 1000);
}
process.once('SIGTERM', () => {
  void host.drain(100).then(() => process.exit(0));
});
