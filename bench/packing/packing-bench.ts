/**
 * Packed pools (issue 14), side by side in one run: ONE shared tor serving 10, 100 and 1,000 strict proxies
 * through its controller (each proxy its own SocksPort and its own built circuit), against separate tors, one
 * per proxy (templates/torrc.tmpl, ExitNodes + StrictNodes), all on one private loopback Tor network with six
 * exits (3 authorities, 1 middle). Measured: VmRSS and RssAnon of the tors and of the controller's own Node
 * process; the controller's CPU per stream; a new proxy from the commit (setProxies) to its first HTTP answer
 * vs a new tor from its start to its first answer (bootstrap included); time to first byte p50/p99 through
 * each to the network's HTTP echo server, which answers the exit's address, so every answer is also checked
 * for a wrong exit. Ports: the network on 26001-26030, packed proxies 26100-27099, new packed proxies from
 * 27100, separate tors 27200-27299, new separate tors from 27400. Every tor, the controller processes and the
 * temp dir are removed at the end, also on failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PackedProxy } from '../../reconciler/src/packing/packed-proxy.js';
import { socksPortCommand } from '../../reconciler/src/packing/socks-ports.js';
import { ControlConnection } from '../../reconciler/src/tor-control/control-connection.js';
import {
  startPrivateTorNetwork,
  type ExitRelay,
  type PrivateTorNetwork,
} from '../../reconciler/src/tor-network/private-tor-network.js';
import { waitFor } from '../../reconciler/src/wait-for.js';
import { median, percentile } from '../gateway/stats.js';
import type { ChildUsage } from './controller-child.js';
import { ControllerProcess } from './controller-process.js';
import {
  controlReady,
  procCpuMs,
  procMemory,
  startSeparateTor,
  startSharedTor,
  stopAll,
  type ProcMemory,
  type RunningTor,
} from './packing-tors.js';
import { firstAnswer, socksGet } from './socks-get.js';

const NET_BASE = 26000;
const PACKED_BASE = 26100;
const NEW_PACKED_BASE = 27100;
const SEPARATE_BASE = 27200;
const NEW_SEPARATE_BASE = 27400;
const PACKED_SIZES = [10, 100, 1000] as const;
const TTFB_REQUESTS = 300;
const NEW_PACKED_RUNS = 5;
const NEW_SEPARATE_RUNS = 3;
/** Separate tors measured for real: 10, and 100 if they all answer within this. */
const SEPARATE_100_DEADLINE_MS = 4 * 60_000;

interface Packed {
  readonly proxies: number;
  readonly tor: ProcMemory;
  readonly torCpuMs: number;
  readonly controllerFloor: ChildUsage;
  readonly controller: ChildUsage;
  readonly allBuiltMs: number;
  readonly buildSeconds: number[];
  /** One request through every proxy, 20 at a time: the controller's CPU over them. */
  readonly batch: { streams: number; ms: number; cpuUs: number; attachSeconds: number[] };
  /** The controller's CPU with no stream at all, per second (its 250 ms timer over every proxy). */
  readonly idleCpuUsPerS: number;
  readonly ttfb: number[];
  readonly newProxyMs: number[];
  /** tor's answer to the full-list SocksPort SETCONF the controller sends on a change (its list again, unchanged). */
  readonly setconfMs: number[];
}

interface Separate {
  readonly started: number;
  readonly answered: number;
  readonly startToAllMs: number;
  readonly memories: ProcMemory[];
  readonly ttfb: number[];
}

const checks = { answers: 0, wrongExit: 0, failed: 0, failures: [] as string[] };

export async function benchPacking(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'torfleet-bench-packing-'));
  let network: PrivateTorNetwork | null = null;
  const controllers = new Set<ControllerProcess>();
  const onSignal = (): void => {
    for (const c of controllers) c.kill();
    void stopAll()
      .then(() => network?.stop())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const net = await startPrivateTorNetwork(path.join(dir, 'net'), NET_BASE, { extraExits: 4 });
    network = net;
    const echoPort = Number(new URL(net.echoUrl).port);
    const packed: Packed[] = [];
    for (const [k, size] of PACKED_SIZES.entries()) {
      packed.push(await measurePacked(dir, net, echoPort, k, size, controllers));
    }
    const newSeparateMs: number[] = [];
    for (let run = 0; run < NEW_SEPARATE_RUNS; run++) {
      newSeparateMs.push(await newSeparateTor(dir, net, echoPort, run));
    }
    const separate10 = await measureSeparate(dir, net, echoPort, 10, 120_000, true);
    const separate100 = await measureSeparate(dir, net, echoPort, 100, SEPARATE_100_DEADLINE_MS, false);
    report(net, packed, newSeparateMs, separate10, separate100);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of controllers) c.kill();
    await stopAll();
    await network?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function strictProxies(exits: readonly ExitRelay[], count: number, base: number, groupBase = 0): PackedProxy[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `bench-${groupBase + i}`,
    sessionGroup: groupBase + i,
    listen: `127.0.0.1:${base + i}`,
    exits: [(exits[(groupBase + i) % exits.length] as ExitRelay).fingerprint],
    rotateEverySeconds: null,
  }));
}

const portOf = (proxy: PackedProxy): number => Number(proxy.listen.split(':')[1]);

/** One GET through `port`, its answer checked against the exit the proxy is pinned to. */
async function checkedGet(port: number, targetPort: number, exit: ExitRelay, what: string): Promise<number | null> {
  try {
    const answer = await socksGet(port, targetPort);
    checks.answers++;
    if (answer.ip !== exit.address) checks.wrongExit++;
    return answer.ttfbMs;
  } catch (error) {
    checks.failed++;
    if (checks.failures.length < 10) checks.failures.push(`${what} port ${port}: ${(error as Error).message}`);
    return null;
  }
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measurePacked(
  dir: string,
  net: PrivateTorNetwork,
  echoPort: number,
  k: number,
  size: number,
  controllers: Set<ControllerProcess>,
): Promise<Packed> {
  const tor = startSharedTor(dir, `bench-tor${k}`, net);
  let controller: ControllerProcess | null = null;
  try {
    await controlReady(tor);
    controller = await ControllerProcess.start(tor.dataDirectory);
    controllers.add(controller);
    await sleep(2000); // connected, relays read: the Node + controller floor with no proxy
    const controllerFloor = await controller.usage();
    const exits = net.allExits;
    const exitOf = (proxy: PackedProxy): ExitRelay =>
      exits.find((exit) => exit.fingerprint === proxy.exits[0]) as ExitRelay;
    const proxies = strictProxies(exits, size, PACKED_BASE);
    const setAt = performance.now();
    await controller.setProxies(proxies);
    const c = controller;
    await waitFor(
      `${size} packed proxies with a built circuit`,
      async () => {
        const status = await c.status();
        return status.built === size;
      },
      180_000,
    );
    const allBuiltMs = performance.now() - setAt;
    const afterBuild = await controller.usage();

    // The controller idle (circuits built, no stream), then one stream through every proxy.
    await sleep(1000);
    const idleFrom = await controller.usage();
    const idleMs = 5000;
    await sleep(idleMs);
    const idleTo = await controller.usage();
    const idleCpuUsPerS = ((idleTo.cpuUs - idleFrom.cpuUs) * 1000) / idleMs;
    const batchFrom = performance.now();
    await inParallel(proxies, 20, (proxy) => checkedGet(portOf(proxy), echoPort, exitOf(proxy), `packed ${size}`));
    const batchMs = performance.now() - batchFrom;
    const batchTo = await controller.usage();
    const batch = {
      streams: proxies.length,
      ms: batchMs,
      cpuUs: batchTo.cpuUs - idleTo.cpuUs,
      attachSeconds: batchTo.attachSeconds,
    };

    // Time to first byte: sequential requests, round robin over the proxies.
    const ttfb: number[] = [];
    for (let i = 0; i < TTFB_REQUESTS; i++) {
      const proxy = proxies[(i * 7) % proxies.length] as PackedProxy;
      const ms = await checkedGet(portOf(proxy), echoPort, exitOf(proxy), `packed ${size} ttfb`);
      if (ms !== null) ttfb.push(ms);
    }
    await sleep(2000);
    const memory = procMemory(tor.pid);
    const controllerUsage = await controller.usage();

    // A new proxy: commit (setProxies over IPC) → first HTTP answer through its new port.
    const newProxyMs: number[] = [];
    let list = proxies;
    for (let run = 0; run < NEW_PACKED_RUNS; run++) {
      const added = strictProxies(exits, 1, NEW_PACKED_BASE + run, 5000 + run)[0] as PackedProxy;
      list = [...list, added];
      const since = performance.now();
      await controller.setProxies(list);
      const answer = await firstAnswer(portOf(added), echoPort, since, 30_000);
      checks.answers++;
      if (answer.ip !== exitOf(added).address) checks.wrongExit++;
      newProxyMs.push(answer.ms);
      await sleep(500);
    }
    const setconfMs = await timeFullSetconf(tor, list);
    return {
      proxies: size,
      tor: memory,
      torCpuMs: procCpuMs(tor.pid),
      controllerFloor,
      controller: controllerUsage,
      allBuiltMs,
      buildSeconds: afterBuild.buildSeconds,
      batch,
      idleCpuUsPerS,
      ttfb,
      newProxyMs,
      setconfMs,
    };
  } finally {
    if (controller) {
      await controller.stop();
      controllers.delete(controller);
    }
    await tor.stop();
  }
}

/** Times tor's answer to the controller's full-list SocksPort SETCONF, sent again unchanged over a second connection. */
async function timeFullSetconf(tor: RunningTor, proxies: readonly PackedProxy[]): Promise<number[]> {
  const side = await ControlConnection.open({
    socketPath: path.join(tor.dataDirectory, 'control'),
    cookieFile: path.join(tor.dataDirectory, 'control_auth_cookie'),
    onEvent: () => undefined,
  });
  try {
    const command = socksPortCommand(
      proxies.map((proxy) => ({ listen: proxy.listen, sessionGroup: proxy.sessionGroup })),
    );
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const since = performance.now();
      await side.command(command);
      times.push(performance.now() - since);
    }
    return times;
  } finally {
    side.close();
  }
}

/** A new strict proxy with a tor of its own, alone: its start → its first HTTP answer (bootstrap included). */
async function newSeparateTor(dir: string, net: PrivateTorNetwork, echoPort: number, run: number): Promise<number> {
  const exit = net.allExits[run % net.allExits.length] as ExitRelay;
  const since = performance.now();
  const tor = startSeparateTor(path.join(dir, 'new'), run, NEW_SEPARATE_BASE + run, exit, net);
  try {
    const answer = await firstAnswer(NEW_SEPARATE_BASE + run, echoPort, since, 120_000, 20);
    checks.answers++;
    if (answer.ip !== exit.address) checks.wrongExit++;
    return answer.ms;
  } finally {
    await tor.stop();
  }
}

/** `count` separate tors started together; each answered once, then their memory and time to first byte. */
async function measureSeparate(
  dir: string,
  net: PrivateTorNetwork,
  echoPort: number,
  count: number,
  deadlineMs: number,
  withTtfb: boolean,
): Promise<Separate> {
  const exits = net.allExits;
  const tors: { tor: RunningTor; port: number; exit: ExitRelay }[] = [];
  try {
    const since = performance.now();
    for (let i = 0; i < count; i++) {
      const exit = exits[i % exits.length] as ExitRelay;
      tors.push({
        tor: startSeparateTor(path.join(dir, `sep${count}`), i, SEPARATE_BASE + i, exit, net),
        port: SEPARATE_BASE + i,
        exit,
      });
    }
    const answered: typeof tors = [];
    let lastDone = 0;
    await Promise.all(
      tors.map(async (entry) => {
        try {
          const answer = await firstAnswer(entry.port, echoPort, since, deadlineMs, 250);
          checks.answers++;
          if (answer.ip !== entry.exit.address) checks.wrongExit++;
          answered.push(entry);
          lastDone = Math.max(lastDone, answer.ms);
        } catch (error) {
          checks.failed++;
          if (checks.failures.length < 10) checks.failures.push(`separate ${count}: ${(error as Error).message}`);
        }
      }),
    );
    const ttfb: number[] = [];
    if (withTtfb && answered.length > 0) {
      for (let i = 0; i < TTFB_REQUESTS; i++) {
        const entry = answered[(i * 7) % answered.length] as (typeof tors)[number];
        const ms = await checkedGet(entry.port, echoPort, entry.exit, `separate ${count} ttfb`);
        if (ms !== null) ttfb.push(ms);
      }
    }
    await sleep(2000);
    return {
      started: count,
      answered: answered.length,
      startToAllMs: lastDone,
      memories: answered.map((entry) => procMemory(entry.tor.pid)),
      ttfb,
    };
  } finally {
    await Promise.all(tors.map((entry) => entry.tor.stop()));
  }
}

// ---- the report ----

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const ms1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function report(
  net: PrivateTorNetwork,
  packed: readonly Packed[],
  newSeparateMs: readonly number[],
  sep10: Separate,
  sep100: Separate,
): void {
  const cpu = os.cpus();
  console.log('\n## Packed pools (issue 14)\n');
  console.log(
    `${new Date().toISOString()}; ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}; ${os.loadavg()[0]?.toFixed(2) ?? '?'} load; ` +
      `private loopback Tor network: 3 authorities, 1 middle, ${net.allExits.length} exits; strict proxies, ` +
      `round robin over the exits.\n`,
  );
  const perTor = (s: Separate, key: keyof ProcMemory): number =>
    s.memories.length > 0 ? sum(s.memories.map((m) => m[key])) / s.memories.length : NaN;
  const sepPerRss = perTor(sep100.answered === sep100.started ? sep100 : sep10, 'vmRssKb');
  const sepPerAnon = perTor(sep100.answered === sep100.started ? sep100 : sep10, 'rssAnonKb');
  const sepPerPss = perTor(sep100.answered === sep100.started ? sep100 : sep10, 'pssKb');
  console.log(
    '| proxies | packed: one tor VmRSS / RssAnon / Pss MB | controller process VmRSS / RssAnon / Pss MB (its floor with 0 proxies) | separate tors Σ VmRSS / Σ RssAnon / Σ Pss MB |',
  );
  console.log('|---|---|---|---|');
  const three = (m: ProcMemory | ChildUsage): string => `${mb(m.vmRssKb)} / ${mb(m.rssAnonKb)} / ${mb(m.pssKb)}`;
  for (const p of packed) {
    const sep = p.proxies === 10 ? sep10 : p.proxies === 100 ? sep100 : null;
    const measured = sep !== null && sep.answered === sep.started;
    const total = (s: Separate, key: keyof ProcMemory): string => mb(sum(s.memories.map((m) => m[key])));
    const sepCell = measured
      ? `${total(sep, 'vmRssKb')} / ${total(sep, 'rssAnonKb')} / ${total(sep, 'pssKb')} (measured, ${sep.answered} tors)`
      : `${mb(sepPerRss * p.proxies)} / ${mb(sepPerAnon * p.proxies)} / ${mb(sepPerPss * p.proxies)} (extrapolated: per tor of the largest measured set × ${p.proxies})`;
    console.log(
      `| ${int(p.proxies)} | ${three(p.tor)} | ${three(p.controller)} (${three(p.controllerFloor)}) | ${sepCell} |`,
    );
  }
  const [p10, p100, p1000] = packed as [Packed, Packed, Packed];
  console.log(
    `\nPer packed proxy (100 → 1,000): tor +${((p1000.tor.vmRssKb - p100.tor.vmRssKb) / 900).toFixed(1)} KB VmRSS, ` +
      `controller +${((p1000.controller.vmRssKb - p100.controller.vmRssKb) / 900).toFixed(1)} KB VmRSS ` +
      `(heap ${mb(p1000.controller.heapUsedKb)} MB used at 1,000). Separate tors (VmRSS / RssAnon / Pss): ${mb(perTor(sep10, 'vmRssKb'))} / ${mb(perTor(sep10, 'rssAnonKb'))} / ${mb(perTor(sep10, 'pssKb'))} MB each (10 measured)` +
      (sep100.memories.length > 0
        ? `, ${mb(perTor(sep100, 'vmRssKb'))} / ${mb(perTor(sep100, 'rssAnonKb'))} / ${mb(perTor(sep100, 'pssKb'))} MB each (${sep100.answered} of 100 answered, all of them started together: ${ms1(sep100.startToAllMs / 1000)} s to the last answer)`
        : ', 100 not measured') +
      '.',
  );

  console.log('\n| latency | packed | separate tor |');
  console.log('|---|---|---|');
  const runs = (values: readonly number[]): string => values.map((v) => int(v)).join(', ');
  for (const p of packed) {
    console.log(
      `| new proxy → first HTTP answer (tor serving ${int(p.proxies)}) | p50 ${int(median(p.newProxyMs))} ms, max ${int(Math.max(...p.newProxyMs))} ms (runs: ${runs(p.newProxyMs)}) | ${p === p10 ? `start → first answer p50 ${int(median(newSeparateMs))} ms (runs: ${runs(newSeparateMs)}), alone` : ''} |`,
    );
  }
  const ttfbCell = (values: readonly number[]): string =>
    values.length > 0
      ? `p50 ${ms1(percentile(values, 50))} / p99 ${ms1(percentile(values, 99))} ms (${values.length} requests)`
      : '–';
  for (const p of packed) {
    console.log(
      `| time to first byte, ${int(p.proxies)} proxies | ${ttfbCell(p.ttfb)} | ${p === p10 ? `${ttfbCell(sep10.ttfb)}, 10 tors` : ''} |`,
    );
  }

  console.log('\n| controller (its own Node process) | 10 | 100 | 1,000 |');
  console.log('|---|---|---|---|');
  const row = (what: string, cell: (p: Packed) => string): void => {
    console.log(`| ${what} | ${packed.map(cell).join(' | ')} |`);
  };
  row('set → every circuit built', (p) => `${int(p.allBuiltMs)} ms`);
  row(
    'circuit build p50 / p99 s',
    (p) => `${percentile(p.buildSeconds, 50).toFixed(2)} / ${percentile(p.buildSeconds, 99).toFixed(2)}`,
  );
  row('CPU idle (circuits built, no stream)', (p) => `${int(p.idleCpuUsPerS / 1000)} ms/s`);
  row(
    'CPU per stream, gross / net of idle (one stream per proxy, 20 in flight)',
    (p) =>
      `${int(p.batch.cpuUs / p.batch.streams)} / ${int((p.batch.cpuUs - (p.idleCpuUsPerS * p.batch.ms) / 1000) / p.batch.streams)} µs`,
  );
  row(
    'attach latency p50 / p99 ms (STREAM NEW → ATTACHSTREAM answered)',
    (p) =>
      `${ms1(percentile(p.batch.attachSeconds, 50) * 1000)} / ${ms1(percentile(p.batch.attachSeconds, 99) * 1000)}`,
  );
  row('tor CPU over its whole life', (p) => `${int(p.torCpuMs)} ms`);
  row('tor: full-list SocksPort SETCONF (its list again), median of 5', (p) => `${ms1(median(p.setconfMs))} ms`);

  const tor1000 = p1000.tor.vmRssKb / 1024;
  const ctl1000 = p1000.controller.vmRssKb / 1024;
  const newMax = Math.max(...packed.flatMap((p) => p.newProxyMs));
  console.log('\n| budget (issue 14) | measured | met |');
  console.log('|---|---|---|');
  console.log(
    `| 1,000 packed proxies: tor < 64 MB | ${tor1000.toFixed(1)} MB VmRSS | ${tor1000 < 64 ? 'yes' : 'no'} |`,
  );
  console.log(
    `| 1,000 packed proxies: controller < 64 MB | ${ctl1000.toFixed(1)} MB VmRSS (${((p1000.controller.vmRssKb - p1000.controllerFloor.vmRssKb) / 1024).toFixed(1)} MB above its 0-proxy floor) | ${ctl1000 < 64 ? 'yes' : 'no'} |`,
  );
  console.log(`| new packed proxy carrying traffic < 0.5 s | max ${int(newMax)} ms | ${newMax < 500 ? 'yes' : 'no'} |`);
  console.log(
    `\nChecked answers: ${int(checks.answers)}, from a wrong exit: ${checks.wrongExit}; failed requests: ${checks.failed}` +
      (checks.failures.length > 0 ? ` (first: ${checks.failures.join('; ')})` : '') +
      '.',
  );
}
