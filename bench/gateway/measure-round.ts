/** One round for one proxy under test: start it, check it answers, run every measure, stop it. */
import type net from 'node:net';
import { closeTunnels, holdTunnels } from './held-tunnels.js';
import { CLOCK_TICKS_PER_SECOND, sampleTree } from './proc-tree.js';
import type { BenchPeers, ProxyUnderTest } from './proxies-under-test.js';
import { percentile } from './stats.js';
import { plainGetOnce, tunnelOnce, type ProxyAddress } from './tunnel-client.js';
import { tunnelLoad, type TunnelLoad } from './tunnel-load.js';
import { runWrk, type WrkRun, type WrkSummary } from './wrk-run.js';

const PLAIN_GET_SECONDS = 3;

export interface BenchSettings {
  readonly wrkSeconds: number;
  readonly tunnelSeconds: number;
  readonly plainGets: number;
  /** How long a just-started proxy sits idle before its settled RSS is read. */
  readonly settleSeconds: number;
}

/** The wrk runs, by the key the report uses. */
export const WRK_RUNS = {
  'ka-1k-10': { file: '1k', connections: 10, connectionClose: false },
  'ka-1k-100': { file: '1k', connections: 100, connectionClose: false },
  'ka-1m-10': { file: '1m', connections: 10, connectionClose: false },
  'ka-1m-100': { file: '1m', connections: 100, connectionClose: false },
  'close-1k-10': { file: '1k', connections: 10, connectionClose: true },
} as const satisfies Record<string, Pick<WrkRun, 'file' | 'connections' | 'connectionClose'>>;
export type WrkKey = keyof typeof WRK_RUNS;

export interface WrkFigures extends WrkSummary {
  /** The proxy's process tree's utime + stime during the run ÷ requests, in µs. */
  readonly cpuUsPerRequest: number;
}

export interface ProxyRound {
  readonly startMs: number;
  /** Just started, no request served yet. */
  readonly idleRssMb: number;
  /** After `settleSeconds` more without a request (V8's memory reducer collects a Node process's start ~8 s in). */
  readonly settledRssMb: number;
  readonly wrk: Partial<Record<WrkKey, WrkFigures>>;
  readonly plainGetP50Ms: number;
  readonly tunnelsSequential: TunnelLoad;
  readonly tunnelsAt50: TunnelLoad;
  readonly rss500Mb: number;
  readonly rss1000Mb: number;
}

export async function measureRound(
  proxy: ProxyUnderTest,
  peers: BenchPeers,
  settings: BenchSettings,
): Promise<ProxyRound> {
  const service = await proxy.start(peers);
  const origin = { port: peers.originPort };
  const address: ProxyAddress = { kind: proxy.kind, port: service.port };
  const held: net.Socket[] = [];
  try {
    const idleRssMb = sampleTree(service.pid).rssMb; // just started, no request served yet
    await new Promise((resolve) => setTimeout(resolve, settings.settleSeconds * 1000));
    const settledRssMb = sampleTree(service.pid).rssMb;
    const absoluteUri = proxy.kind === 'http' && proxy.connectOnly !== true;
    if (proxy.connectOnly !== true) await plainGetOnce(address, origin, '/1m'); // 200 and the whole file, or it fails
    await tunnelOnce(address, origin);
    const wrk: Partial<Record<WrkKey, WrkFigures>> = {};
    if (absoluteUri) {
      for (const [key, run] of Object.entries(WRK_RUNS) as [WrkKey, (typeof WRK_RUNS)[WrkKey]][]) {
        const before = sampleTree(service.pid).cpuTicks;
        const spec = { ...run, proxyPort: service.port, originPort: peers.originPort, seconds: settings.wrkSeconds };
        const summary = await runWrk(peers.dir, spec);
        const cpuSeconds = (sampleTree(service.pid).cpuTicks - before) / CLOCK_TICKS_PER_SECOND;
        wrk[key] = { ...summary, cpuUsPerRequest: (cpuSeconds * 1e6) / summary.requests };
      }
    }
    const plain: number[] = [];
    const plainEnd = performance.now() + PLAIN_GET_SECONDS * 1000; // tinyproxy needs ~45 ms each: cap the time
    while (proxy.connectOnly !== true && plain.length < settings.plainGets && performance.now() < plainEnd) {
      plain.push(await plainGetOnce(address, origin, '/1k'));
    }
    const tunnelsSequential = await tunnelLoad(address, origin, 1, settings.tunnelSeconds);
    const tunnelsAt50 = await tunnelLoad(address, origin, 50, settings.tunnelSeconds);
    await holdTunnels(address, origin, 500, held);
    const rss500Mb = sampleTree(service.pid).rssMb;
    await holdTunnels(address, origin, 1000, held);
    const rss1000Mb = sampleTree(service.pid).rssMb;
    return {
      startMs: proxy.ownProcess ? service.startMs : NaN,
      idleRssMb,
      settledRssMb,
      wrk,
      plainGetP50Ms: percentile(plain, 50),
      tunnelsSequential,
      tunnelsAt50,
      rss500Mb,
      rss1000Mb,
    };
  } finally {
    closeTunnels(held);
    await service.stop();
  }
}
