import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../logger.js';
import { socksGet } from '../testing/socks-echo.js';
import { tempDir } from '../testing/temp-dir.js';
import { ControlConnection, getinfoLines } from '../tor-control/control-connection.js';
import { startPrivateTorNetwork, type ExitRelay, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';
import { guardStateFile } from './guard-state.js';
import type { PackedProxy, PackingEvents } from './packed-proxy.js';
import { PackedTorController } from './packed-tor-controller.js';

/**
 * The controller against the real thing: a private Tor network with six exits on their own addresses and ONE
 * shared tor serving every proxy below, each proxy on its own SocksPort. The echo server answers the address a
 * connection came from, which is the exit's: a wrong-exit answer is visible. Port block 31300-31399: the network
 * on 31301-31330, proxies on 31340-31379.
 */
const BASE = 31300;
const dir = tempDir('packing');
const data = path.join(dir, 'shared');
let network: PrivateTorNetwork;
let tor: ChildProcess;
let echoPort: number;
let side: ControlConnection;

const counts = { built: 0, failed: 0, renewed: 0, attached: 0, refused: 0 };
const events: PackingEvents = {
  circuitBuilt: () => {
    counts.built++;
  },
  circuitFailed: () => {
    counts.failed++;
  },
  circuitRenewed: () => {
    counts.renewed++;
  },
  streamAttached: () => {
    counts.attached++;
  },
  streamRefused: () => {
    counts.refused++;
  },
};

function newController(): PackedTorController {
  return new PackedTorController({
    dataDirectory: data,
    testingNetwork: true,
    log: silentLogger,
    events,
    tuning: { backoffInitialMs: 200, backoffMaxMs: 1000, tickMs: 100 },
  });
}
let controller: PackedTorController;
let stopController: () => Promise<void>;
function runController(c: PackedTorController): () => Promise<void> {
  const abort = new AbortController();
  const running = c.run({ signal: abort.signal, ready: () => undefined, log: silentLogger });
  return async () => {
    abort.abort();
    await running;
  };
}

/** Two strict proxies per exit, a flexible one over the two US exits, a rotating one over all. */
let strict: (PackedProxy & { address: string })[] = [];
let proxies: PackedProxy[] = [];
const portOf = (proxy: PackedProxy): number => Number(proxy.listen.split(':')[1]);
const addressOf = (exit: ExitRelay): string => exit.address;

describe('the packing controller on a private Tor network with six exits', () => {
  before(async () => {
    network = await startPrivateTorNetwork(path.join(dir, 'net'), BASE, { extraExits: 4 });
    echoPort = Number(new URL(network.echoUrl).port);
    const exits = network.allExits;
    strict = Array.from({ length: 12 }, (_, i) => {
      const exit = exits[i % exits.length] as ExitRelay;
      return {
        name: `strict-${i}`,
        sessionGroup: i,
        listen: `127.0.0.1:${BASE + 40 + i}`,
        exits: [exit.fingerprint],
        rotateEverySeconds: null,
        address: exit.address,
      };
    });
    proxies = [
      ...strict,
      {
        name: 'flex-0',
        sessionGroup: 100,
        listen: `127.0.0.1:${BASE + 60}`,
        exits: [network.exits.us.fingerprint, exits[2]?.fingerprint ?? ''],
        rotateEverySeconds: null,
      },
      {
        name: 'rot-0',
        sessionGroup: 101,
        listen: `127.0.0.1:${BASE + 61}`,
        exits: exits.map((exit) => exit.fingerprint),
        rotateEverySeconds: 1,
      },
    ];
    tor = startSharedTor(network);
    await waitFor('the shared tor control socket and cookie', () =>
      ['control', 'control_auth_cookie'].every((file) => existsSync(path.join(data, file))),
    );
    side = await ControlConnection.open({
      socketPath: path.join(data, 'control'),
      cookieFile: path.join(data, 'control_auth_cookie'),
      onEvent: () => undefined,
    });
    controller = newController();
    controller.setProxies(proxies);
    stopController = runController(controller);
    await waitFor(
      'every proxy has its circuit',
      () => [...controller.status().values()].every((s) => s.circuitBuilt),
      60_000,
    );
  });
  after(async () => {
    await stopController();
    side.close();
    tor.kill('SIGKILL');
    await network.stop();
  });

  test('each strict proxy leaves through its own exit; flexible and rotating proxies only through theirs', async () => {
    for (const proxy of strict) assert.equal(await echoThrough(portOf(proxy)), proxy.address, proxy.name);
    const us = [network.exits.us, network.allExits[2] as ExitRelay].map(addressOf);
    for (let i = 0; i < 5; i++) assert.ok(us.includes(await echoThrough(BASE + 60)));
    const seen = new Set<string>();
    const all = network.allExits.map(addressOf);
    const until = Date.now() + 6000;
    while (Date.now() < until && seen.size < 3) {
      const address = await echoThrough(BASE + 61);
      assert.ok(all.includes(address), address);
      seen.add(address);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(seen.size >= 3, `a rotating proxy left through ${[...seen].join(', ')} only`);
    const status = controller.status().get('strict-0');
    assert.equal(status?.exit, strict[0]?.exits[0]);
    assert.equal(status?.lastError, null);
  });

  test('each SOCKS username/password gets its own circuit, through the same exit', async () => {
    const before = await controllerCircuits();
    const proxy = strict[3] as (typeof strict)[number];
    for (const username of ['lease-a', 'lease-b', 'lease-a']) {
      assert.equal(await echoThrough(portOf(proxy), 5000, { username, password: 'x' }), proxy.address);
    }
    const added = (await controllerCircuits()).filter((circuit) => !before.some((old) => old.id === circuit.id));
    assert.equal(added.length, 2, 'one new circuit per SOCKS username (lease-a twice is one)');
    for (const circuit of added) assert.equal(circuit.exit, proxy.exits[0]);
  });

  test('thousands of requests, none through a wrong exit, while exits are killed and restarted', async (t) => {
    const killed = [network.allExits[4], network.allExits[1]] as ExitRelay[];
    const affected = (proxy: (typeof strict)[number]): boolean => killed.some((exit) => exit.address === proxy.address);
    const results = { ok: 0, wrong: 0, failedAffected: 0, failedOthers: [] as string[], slowestFailureMs: 0 };
    let running = true;
    const worker = async (proxy: (typeof strict)[number]): Promise<void> => {
      while (running) {
        const started = Date.now();
        try {
          const address = await echoThrough(portOf(proxy), 10_000);
          if (address === proxy.address) results.ok++;
          else results.wrong++;
        } catch (error) {
          results.slowestFailureMs = Math.max(results.slowestFailureMs, Date.now() - started);
          if (affected(proxy)) results.failedAffected++;
          else results.failedOthers.push(`${proxy.name}: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const workers = strict.map(worker);
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    for (const exit of killed) {
      await pause(2000);
      await network.stopExit(exit.nickname);
      await pause(3000);
      await network.startExit(exit.nickname);
    }
    await waitFor(
      'every strict proxy has its circuit again',
      () => strict.every((proxy) => controller.status().get(proxy.name)?.circuitBuilt === true),
      30_000,
    );
    // Thousands of answers, however fast this machine is: the count is what the test asks for, not a rate.
    await waitFor('2,000 answers through the pinned exits', () => results.ok >= 2000, 120_000);
    running = false;
    await Promise.all(workers);
    t.diagnostic(`requests: ${JSON.stringify({ ...results, failedOthers: results.failedOthers.length })}`);
    assert.equal(results.wrong, 0, 'an answer came from a wrong exit');
    assert.deepEqual(results.failedOthers, [], 'a proxy whose exit stayed up failed');
    assert.ok(results.failedAffected > 0, 'the killed exits made their proxies fail (else this test tests nothing)');
    assert.ok(results.slowestFailureMs < 3000, `a failure took ${results.slowestFailureMs} ms`);
    for (const proxy of strict) assert.equal(await echoThrough(portOf(proxy)), proxy.address, proxy.name);
  });

  test('a killed exit: only its proxies fail, fast, with the reason; they serve again when it returns', async () => {
    const exit = network.allExits[5] as ExitRelay;
    const mine = strict.filter((proxy) => proxy.address === exit.address);
    const others = strict.filter((proxy) => proxy.address !== exit.address);
    const circuitsBefore = new Map(others.map((proxy) => [proxy.name, controller.status().get(proxy.name)?.circuitId]));
    await network.stopExit(exit.nickname);
    try {
      await waitFor('its proxies report the exit down', () =>
        mine.every((proxy) => controller.status().get(proxy.name)?.lastError?.includes(exit.fingerprint) === true),
      );
      for (const proxy of mine) {
        const started = Date.now();
        await assert.rejects(echoThrough(portOf(proxy), 10_000), /socks reply|closed/);
        assert.ok(
          Date.now() - started < 1000,
          `a stream of a proxy whose exit is down took ${Date.now() - started} ms to fail`,
        );
        assert.equal(controller.status().get(proxy.name)?.circuitBuilt, false);
      }
      for (const proxy of others) {
        assert.equal(await echoThrough(portOf(proxy)), proxy.address);
        assert.equal(controller.status().get(proxy.name)?.circuitId, circuitsBefore.get(proxy.name), proxy.name);
      }
    } finally {
      await network.startExit(exit.nickname);
    }
    await waitFor(
      'its proxies have a circuit again',
      () => mine.every((proxy) => controller.status().get(proxy.name)?.lastError === null),
      20_000,
    );
    // A just restarted exit sometimes fails the first stream (its circuit closes again once): wait for an answer,
    // which must come from the exit.
    for (const proxy of mine) await answersFromItsExit(proxy);
  });

  test('adding and removing proxies touches no other proxy circuit', async () => {
    for (const proxy of strict) await answersFromItsExit(proxy);
    const ids = (): Map<string, string | null | undefined> =>
      new Map(strict.slice(0, 11).map((proxy) => [proxy.name, controller.status().get(proxy.name)?.circuitId]));
    const before = ids();
    const extra = [0, 1].map((i) => ({
      name: `added-${i}`,
      sessionGroup: 200 + i,
      listen: `127.0.0.1:${BASE + 70 + i}`,
      exits: [network.allExits[i + 2]?.fingerprint ?? ''],
      rotateEverySeconds: null,
    }));
    controller.setProxies([...proxies, ...extra]);
    await waitFor('the added proxies have circuits', () =>
      extra.every((proxy) => controller.status().get(proxy.name)?.circuitBuilt === true),
    );
    for (const [i, proxy] of extra.entries()) {
      assert.equal(await echoThrough(portOf(proxy)), network.allExits[i + 2]?.address);
    }
    assert.deepEqual(ids(), before);
    const removed = strict[11] as (typeof strict)[number];
    controller.setProxies(proxies.filter((proxy) => proxy !== removed));
    await waitFor('the removed proxy port is closed', async () => !(await accepts(portOf(removed))));
    await waitFor('the added proxies are gone', () => !controller.status().has('added-0'));
    assert.deepEqual(ids(), before);
    for (const proxy of strict.slice(0, 11)) assert.equal(await echoThrough(portOf(proxy)), proxy.address);
    controller.setProxies(proxies);
    await waitFor('the proxy is back', () => controller.status().get(removed.name)?.circuitBuilt === true);
  });

  test('renewal across a short MaxCircuitDirtiness keeps a busy proxy on its exit, without a failed request', async () => {
    const proxy = strict[2] as (typeof strict)[number];
    const renewedBefore = counts.renewed;
    await side.command('SETCONF MaxCircuitDirtiness=10'); // tor's minimum; the controller renews at half of it
    const circuits = new Set<string>();
    let requests = 0;
    try {
      const until = Date.now() + 14_000;
      while (Date.now() < until) {
        assert.equal(await echoThrough(portOf(proxy)), proxy.address);
        requests++;
        circuits.add(controller.status().get(proxy.name)?.circuitId ?? 'none');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await side.command('SETCONF MaxCircuitDirtiness=86400');
    }
    assert.ok(circuits.size >= 3, `the busy proxy used ${circuits.size} circuits over ${requests} requests`);
    assert.ok(!circuits.has('none'));
    assert.ok(counts.renewed > renewedBefore);
  });

  test('a stopped controller fails closed; a new one closes the old circuits, keeps the guards and serves', async () => {
    const oldCircuits = await controllerCircuits();
    const guards = readFileSync(guardStateFile(data), 'utf8');
    await stopController();
    await assert.rejects(echoThrough(portOf(strict[0] as PackedProxy), 2000), /timeout/);
    const waiting = echoThrough(portOf(strict[1] as PackedProxy), 3000).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const streams = getinfoLines(await side.command('GETINFO stream-status'), 'stream-status');
    assert.ok(
      streams.some((line) => line.split(' ')[2] === '0' && line.endsWith(`:${echoPort}`)),
      `a stream waits unattached: ${streams.join(' | ')}`,
    );
    assert.match(String(await waiting), /timeout/);

    controller = newController();
    controller.setProxies(proxies);
    stopController = runController(controller);
    await waitFor(
      'every proxy has its circuit',
      () => [...controller.status().values()].every((s) => s.circuitBuilt),
      30_000,
    );
    const now = await controllerCircuits();
    assert.ok(
      now.every((circuit) => !oldCircuits.some((old) => old.id === circuit.id)),
      'an old circuit survived',
    );
    assert.equal(readFileSync(guardStateFile(data), 'utf8'), guards);
    const firstHops = new Set(now.map((circuit) => circuit.guard));
    const saved = (JSON.parse(guards) as { guards: string[] }).guards;
    assert.ok(
      [...firstHops].every((hop) => saved.includes(hop)),
      'a circuit entered through a guard not kept',
    );
    for (const proxy of strict) assert.equal(await echoThrough(portOf(proxy)), proxy.address, proxy.name);
  });
});

/** Waits until a request through `proxy` is answered; any answer must come from its exit. */
async function answersFromItsExit(proxy: PackedProxy & { address: string }): Promise<void> {
  await waitFor(
    `an answer through ${proxy.name}`,
    async () => {
      const address = await echoThrough(portOf(proxy)).catch(() => undefined);
      if (address !== undefined) assert.equal(address, proxy.address, proxy.name);
      return address !== undefined;
    },
    20_000,
  );
}

function startSharedTor(net: PrivateTorNetwork): ChildProcess {
  mkdirSync(data, { mode: 0o700 });
  const torrc = path.join(dir, 'shared.torrc');
  writeFileSync(
    torrc,
    [
      `DataDirectory ${data}`,
      'SocksPort 0',
      `ControlSocket ${data}/control`,
      'CookieAuthentication 1',
      '__LeaveStreamsUnattached 1',
      '__DisablePredictedCircuits 1',
      'MaxCircuitDirtiness 86400',
      'TestingTorNetwork 1',
      ...net.dirAuthorities.map((line) => `DirAuthority ${line}`),
      `GeoIPFile ${net.geoipFile}`,
      'GeoIPv6File ""',
      `Log notice file ${data}/notice.log`,
      'SafeLogging 0',
      'RunAsDaemon 0',
      '',
    ].join('\n'),
  );
  return spawn('tor', ['-f', torrc, '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
}

/** The shared tor's CONTROLLER circuits now: id, first hop and exit. */
async function controllerCircuits(): Promise<{ id: string; guard: string; exit: string }[]> {
  const lines = getinfoLines(await side.command('GETINFO circuit-status'), 'circuit-status');
  return lines
    .filter((line) => line.includes('PURPOSE=CONTROLLER') && line.split(' ')[1] === 'BUILT')
    .map((line) => {
      const [id = '', , hops = ''] = line.split(' ');
      const path = hops.split(',').map((hop) => hop.slice(1, 41));
      return { id, guard: path[0] ?? '', exit: path[path.length - 1] ?? '' };
    });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/**
 * GET the echo server through SOCKS5 on 127.0.0.1:`port` (username/password auth when given); resolves with the
 * address the echo server saw. Rejects on a SOCKS error reply (`socks reply N`), a close, or `timeout`.
 */
function echoThrough(port: number, timeoutMs = 5000, auth?: { username: string; password: string }): Promise<string> {
  return socksGet(port, echoPort, { timeoutMs, auth }).then(
    (answer) => answer.ip,
    (error: unknown) => {
      throw new Error(`${(error as Error).message} (port ${port})`);
    },
  );
}
