/**
 * The proxies under test, each forwarding to the same microsocks. Plugging the gateway in (or another contender)
 * is one entry here. `start` throws with the reason when a proxy cannot run (the gateway before it exists).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { gatewayFleet, privoxyConfig, tinyproxyConfig } from './peer-configs.js';
import { startService, type RunningService } from './spawned-service.js';

export interface BenchPeers {
  /** A fresh temp dir for configs and scripts. */
  readonly dir: string;
  readonly socksPort: number;
  readonly socksPid: number;
  readonly originPort: number;
}

export interface ProxyUnderTest {
  readonly name: string;
  /** `http`: absolute-URI and CONNECT; `socks`: the client speaks SOCKS5 itself (wrk columns stay empty). */
  readonly kind: 'http' | 'socks';
  /** A process of its own per round (false for the shared microsocks: no start time). */
  readonly ownProcess: boolean;
  /** Serves CONNECT only (the Node floor): no absolute-URI rows, no plain GET latency. */
  readonly connectOnly?: boolean;
  start(peers: BenchPeers): Promise<RunningService>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/bench/gateway
const DEFAULT_GATEWAY_MAIN = path.join(HERE, '..', '..', 'reconciler', 'src', 'cli', 'main.js');

/** The gateway's CLI entry; TORFLEET_BENCH_GATEWAY_MAIN points at another build (e.g. a branch's dist). */
export function gatewayMain(): string {
  return process.env.TORFLEET_BENCH_GATEWAY_MAIN ?? DEFAULT_GATEWAY_MAIN;
}

export const PROXIES_UNDER_TEST: readonly ProxyUnderTest[] = [
  {
    name: 'privoxy',
    kind: 'http',
    ownProcess: true,
    async start(peers) {
      const port = await freePort();
      const config = path.join(peers.dir, 'privoxy.conf');
      writeFileSync(config, privoxyConfig(port, peers.socksPort));
      return startService({ name: 'privoxy', command: 'privoxy', args: ['--no-daemon', config], port });
    },
  },
  {
    name: 'tinyproxy',
    kind: 'http',
    ownProcess: true,
    async start(peers) {
      const port = await freePort();
      const config = path.join(peers.dir, 'tinyproxy.conf');
      writeFileSync(config, tinyproxyConfig(port, peers.socksPort));
      return startService({ name: 'tinyproxy', command: 'tinyproxy', args: ['-d', '-c', config], port });
    },
  },
  {
    name: 'torfleet gateway',
    kind: 'http',
    ownProcess: true,
    async start(peers) {
      const port = await freePort();
      const fleet = path.join(peers.dir, 'gateway-fleet.yaml');
      writeFileSync(fleet, gatewayFleet(port, peers.socksPort));
      const args = [gatewayMain(), 'gateway', '--listen', `127.0.0.1:${port}`];
      return startService({
        name: 'torfleet gateway',
        command: process.execPath,
        args,
        port,
        env: { TORFLEET_FLEET_FILE: fleet },
      });
    },
  },
  {
    name: 'Node floor',
    kind: 'http',
    ownProcess: true,
    connectOnly: true,
    async start(peers) {
      const port = await freePort();
      const args = [path.join(HERE, 'node-floor.js'), String(port), String(peers.socksPort)];
      return startService({ name: 'Node floor', command: process.execPath, args, port });
    },
  },
  {
    name: 'direct to microsocks',
    kind: 'socks',
    ownProcess: false,
    start(peers) {
      const stop = (): Promise<void> => Promise.resolve();
      return Promise.resolve({ name: 'microsocks', pid: peers.socksPid, port: peers.socksPort, startMs: NaN, stop });
    },
  },
];
