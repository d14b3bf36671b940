import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { silentLogger } from '../logger.js';
import { extendPath, ScriptedTorControl, type ScriptedRelay } from '../testing/scripted-tor-control.js';
import { tempDir } from '../testing/temp-dir.js';
import { ControlConnection } from '../tor-control/control-connection.js';
import { waitFor } from '../wait-for.js';
import { ControllerSession } from './controller-session.js';
import { DEFAULT_TUNING, type ControllerTuning } from './controller-tuning.js';
import type { PackedProxy, PackingEvents } from './packed-proxy.js';

/**
 * The controller against a scripted tor, for the orderings a real tor produces only sometimes: an event in the
 * same write as the reply it races (before it), a circuit built through another exit than asked, streams from
 * no proxy's session group, a stream moved to another circuit, detaches, and a proxy whose exit tor does not
 * know yet. The invariant under test: a stream is attached only to a built circuit of its own proxy, through one
 * of that proxy's exits; otherwise it is closed. The real tor is in packed-tor-controller.test.ts.
 */
const fingerprint = (digit: string): string => digit.repeat(40);
const relay = (nickname: string, digit: string, flags: string[]): ScriptedRelay => ({
  nickname,
  fingerprint: fingerprint(digit),
  address: `127.0.0.${digit.charCodeAt(0) % 200}`,
  flags: ['Running', 'Valid', 'Fast', 'Stable', ...flags],
});
const GUARD = relay('guard1', 'A', ['Guard']);
const MIDDLE = relay('middle1', 'B', []);
const EXIT_1 = relay('exit1', 'C', ['Exit']);
const EXIT_2 = relay('exit2', 'D', ['Exit']);
const EXIT_3 = relay('exit3', 'E', ['Exit']);
const ALL = [GUARD, MIDDLE, EXIT_1, EXIT_2, EXIT_3];

const P0: PackedProxy = {
  name: 'p0',
  sessionGroup: 0,
  listen: '127.0.0.1:9000',
  exits: [EXIT_1.fingerprint],
  rotateEverySeconds: null,
};
const P1: PackedProxy = { ...P0, name: 'p1', sessionGroup: 1, listen: '127.0.0.1:9001', exits: [EXIT_2.fingerprint] };

// Long build timeout and stream wait: an event the controller dropped would show as a wait that never ends
// within the test's few seconds, not as a race against a short timer.
const TUNING: ControllerTuning = {
  ...DEFAULT_TUNING,
  tickMs: 20,
  streamWaitMs: 60_000,
  buildTimeoutMs: 60_000,
  backoffInitialMs: 50,
  backoffMaxMs: 300,
};

const built = (id: string, hops: readonly string[]): string =>
  `650 CIRC ${id} BUILT ${hops.map((hop) => `$${hop}`).join(',')} PURPOSE=CONTROLLER\r\n`;
const streamNew = (id: string, group: number | null, extra = 'PURPOSE=USER'): string =>
  `650 STREAM ${id} NEW 0 127.0.0.1:80 SOURCE_ADDR=127.0.0.1:50000 ${extra}` +
  `${group === null ? '' : ` SESSION_GROUP=${group}`}\r\n`;

const root = tempDir('scripted-tor');
let tor: ScriptedTorControl;
let connection: ControlConnection | null;
let session: ControllerSession | null;
/** EXTENDCIRCUIT's circuit ids, with the hops each asked for. */
let circuits: Map<string, string[]>;
let failures: { proxy: string; reason: string }[];

const events: PackingEvents = {
  circuitBuilt: () => undefined,
  circuitFailed: (proxy, reason) => failures.push({ proxy, reason }),
  circuitRenewed: () => undefined,
  streamAttached: () => undefined,
  streamRefused: () => undefined,
};

async function startSession(proxies: readonly PackedProxy[]): Promise<ControllerSession> {
  connection = await ControlConnection.open({
    socketPath: tor.socketPath,
    cookieFile: tor.cookieFile,
    onEvent: (event) => session?.onEvent(event),
  });
  session = new ControllerSession({
    connection,
    dataDirectory: path.dirname(tor.socketPath),
    rules: { testingNetwork: true },
    log: silentLogger,
    events,
    tuning: TUNING,
    random: () => 0.5,
    now: Date.now,
  });
  await session.start(proxies);
  return session;
}

/** Answers each EXTENDCIRCUIT with `answer` (the reply, with whatever events the test puts around it). */
function onExtend(answer: (id: string, hops: string[], reply: string) => string): void {
  tor.script = (line, scripted) => {
    if (!line.startsWith('EXTENDCIRCUIT ')) return null;
    const { id, reply } = scripted.extended();
    const hops = extendPath(line);
    circuits.set(id, hops);
    return answer(id, hops, reply);
  };
}

/** The circuit id whose last hop is `exit`, once the controller asked for one. */
const circuitThrough = (exit: ScriptedRelay): Promise<string> =>
  waitFor(
    `a circuit through ${exit.nickname}`,
    () => [...circuits].find(([, hops]) => hops[hops.length - 1] === exit.fingerprint)?.[0],
  );

describe('the packing controller against a scripted tor', () => {
  beforeEach(async () => {
    tor = await ScriptedTorControl.start(mkdtempSync(path.join(root, 'tor-')));
    tor.relays = ALL;
    circuits = new Map();
    failures = [];
    connection = null;
    session = null;
  });
  afterEach(async () => {
    session?.stop();
    connection?.close();
    await tor.close();
  });

  test('a BUILT event in the same write as EXTENDCIRCUIT reply, before it: built at once, streams attach to it', async () => {
    onExtend((id, hops, reply) => built(id, hops) + reply);
    const running = await startSession([P0, P1]);
    await waitFor('both circuits built', () =>
      [P0, P1].every((proxy) => running.statusOf(proxy.name)?.circuitBuilt === true),
    );
    const own = await circuitThrough(EXIT_1);
    const other = await circuitThrough(EXIT_2);
    const mark = tor.commands.length;
    tor.write(streamNew('11', 0) + streamNew('12', 1));
    assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 11 /, mark), `ATTACHSTREAM 11 ${own}`);
    assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 12 /, mark), `ATTACHSTREAM 12 ${other}`);
    assert.equal(running.statusOf('p0')?.exit, EXIT_1.fingerprint);
  });

  test('CIRC FAILED before EXTENDCIRCUIT reply, in one write: the waiting stream is closed, the retry serves', async () => {
    let first = true;
    onExtend((id, hops, reply) => {
      if (!first) return reply;
      first = false;
      // the stream arrives while the circuit is launched, then the build fails, then tor answers the command
      return `${streamNew('21', 0)}650 CIRC ${id} FAILED $${hops.join(',$')} PURPOSE=CONTROLLER REASON=TIMEOUT\r\n${reply}`;
    });
    const running = await startSession([P0]);
    await tor.waitForCommand(/^CLOSESTREAM 21 1$/);
    const failedId = [...circuits.keys()][0];
    assert.deepEqual(tor.sent(/^ATTACHSTREAM 21 /), [], 'the stream of a failed build is never attached');
    assert.match(failures[0]?.reason ?? '', new RegExp(`circuit ${failedId ?? '?'} .* failed to build \\(TIMEOUT\\)`));
    assert.equal(failures[0]?.proxy, 'p0');
    // the retry (after the 50 ms backoff) gets a circuit, which tor then builds
    const retry = await waitFor('the retried circuit', () => [...circuits.keys()][1]);
    tor.write(built(retry, circuits.get(retry) ?? []));
    await waitFor('the retried circuit built', () => running.statusOf('p0')?.circuitBuilt === true);
    assert.equal(running.statusOf('p0')?.lastError, null);
    const mark = tor.commands.length;
    tor.write(streamNew('22', 0));
    assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 22 /, mark), `ATTACHSTREAM 22 ${retry}`);
  });

  test('a circuit tor built through another exit than asked is closed and never used', async () => {
    onExtend((id, hops, reply) => built(id, [...hops.slice(0, -1), EXIT_3.fingerprint]) + reply);
    const running = await startSession([P0]);
    const wrong = await circuitThrough(EXIT_1);
    await tor.waitForCommand(new RegExp(`^CLOSECIRCUIT ${wrong}$`));
    assert.equal(running.statusOf('p0')?.circuitBuilt, false);
    assert.match(running.statusOf('p0')?.lastError ?? '', /built through another exit/);
    const mark = tor.commands.length;
    tor.write(streamNew('31', 0));
    await tor.waitForCommand(/^CLOSESTREAM 31 1$/, mark);
    assert.deepEqual(tor.sent(/^ATTACHSTREAM /), [], 'nothing was attached to the wrong-exit circuit');
  });

  test('streams from no proxy session group are closed; streams tor starts itself are left to tor', async () => {
    onExtend((id, hops, reply) => built(id, hops) + reply);
    await startSession([P0]);
    await circuitThrough(EXIT_1);
    tor.write(streamNew('41', 7) + streamNew('42', null) + streamNew('43', 0, 'PURPOSE=DIR_FETCH'));
    await tor.waitForCommand(/^CLOSESTREAM 41 1$/);
    await tor.waitForCommand(/^CLOSESTREAM 42 1$/);
    // a stream after them is answered, so every command about 43 would have been sent by now
    tor.write(streamNew('44', 0));
    await tor.waitForCommand(/^ATTACHSTREAM 44 /);
    assert.deepEqual(tor.sent(/^ATTACHSTREAM 4[1-3] /), [], 'none of them was attached');
    assert.deepEqual(tor.sent(/^CLOSESTREAM 43 /), [], "tor's own directory stream is left to tor");
  });

  test('a stream tor reports on a circuit it was not attached to is closed', async () => {
    onExtend((id, hops, reply) => built(id, hops) + reply);
    await startSession([P0]);
    const own = await circuitThrough(EXIT_1);
    tor.write(streamNew('51', 0));
    assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 51 /), `ATTACHSTREAM 51 ${own}`);
    tor.write(`650 STREAM 51 SUCCEEDED 999 127.0.0.1:80\r\n`);
    await tor.waitForCommand(/^CLOSESTREAM 51 1$/);
  });

  test('a detached stream is attached again to its own circuit, twice; the third detach closes it', async () => {
    onExtend((id, hops, reply) => built(id, hops) + reply);
    await startSession([P0]);
    const own = await circuitThrough(EXIT_1);
    tor.write(streamNew('61', 0));
    await tor.waitForCommand(/^ATTACHSTREAM 61 /);
    const detach = `650 STREAM 61 DETACHED ${own} 127.0.0.1:80 REASON=TIMEOUT SESSION_GROUP=0\r\n`;
    for (let time = 1; time <= 2; time++) {
      const mark = tor.commands.length;
      tor.write(detach);
      assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 61 /, mark), `ATTACHSTREAM 61 ${own}`);
    }
    tor.write(detach);
    await tor.waitForCommand(/^CLOSESTREAM 61 1$/);
    assert.equal(tor.sent(/^ATTACHSTREAM 61 /).length, 3);
  });

  test("a proxy whose exit is not in tor's relay list fails closed; tor's relays are read again soon, then it serves", async () => {
    tor.relays = ALL.filter((candidate) => candidate !== EXIT_2);
    onExtend((id, hops, reply) => built(id, hops) + reply);
    const running = await startSession([P0, P1]);
    await waitFor('p0 built', () => running.statusOf('p0')?.circuitBuilt === true);
    assert.match(running.statusOf('p1')?.lastError ?? '', /none of its exits \(1\) is Running/);
    const mark = tor.commands.length;
    tor.write(streamNew('71', 1));
    await tor.waitForCommand(/^CLOSESTREAM 71 1$/, mark);
    assert.equal(tor.sent(/^GETINFO ns\/all$/).length, 1);
    // tor learns the exit; the controller asks again within backoffMaxMs (300 ms here), not relayRefreshMs (10 min)
    tor.relays = ALL;
    await tor.waitForCommand(/^GETINFO ns\/all$/, mark);
    const own = await circuitThrough(EXIT_2);
    await waitFor('p1 built', () => running.statusOf('p1')?.circuitBuilt === true);
    const later = tor.commands.length;
    tor.write(streamNew('72', 1));
    assert.equal(await tor.waitForCommand(/^ATTACHSTREAM 72 /, later), `ATTACHSTREAM 72 ${own}`);
  });
});
