import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { silentLogger } from '../logger.js';
import { PackedProxyRecords } from '../runtime/packed-proxy-records.js';
import { PackedProxyRuntime } from '../runtime/packed-proxy-runtime.js';
import { passDependencies } from '../testing/pass-fixture.js';
import { RecordingRuntime } from '../testing/recording-runtime.js';
import { RecordingSharedTors } from '../testing/recording-shared-tors.js';
import { tempDir } from '../testing/temp-dir.js';
import { reconcilePass } from './reconcile-pass.js';

/**
 * Passes over a packed pool (issue 14) with recorded runtimes and real records: which shared tors start, what
 * their records hold, what reaches the proxies' runtime, and what fails when a shared tor does not start.
 */
const fleet = (packing: string, count = 3): string => `apiVersion: torfleet/v1
kind: Fleet
tor:
  image: torfleet/tor:0.4.9
  disableNetwork: true
pools:
  - name: packed
    geo: US
    mode: strict
    count: ${String(count)}
    basePort: 20600
${packing}  - {name: own, geo: US, mode: rotating, count: 1, basePort: 20650}
`;
const PACKED = '    packing: {proxiesPerTor: 2}\n';

function setUp(relays = 5) {
  const stateDir = tempDir('packed-pass');
  const proxies = new RecordingRuntime();
  const sharedTors = new RecordingSharedTors(stateDir, proxies.calls); // one log: the order across both
  const records = new PackedProxyRecords(stateDir);
  const runtime = new PackedProxyRuntime(proxies, sharedTors, records, silentLogger);
  const deps = passDependencies(fleet(PACKED), runtime, relays);
  const fleetFile = (text: string): void => {
    writeFileSync(deps.fleetFile, text);
  };
  return { deps, proxies, sharedTors, records, fleetFile };
}

describe('a pass over a packed pool', () => {
  test('starts one shared tor per two proxies, records what each serves, and creates no proxy unit for them', async () => {
    const { deps, proxies, sharedTors, records } = setUp();
    const done = await reconcilePass(deps);
    assert.equal(done.result.failures.length, 0, JSON.stringify(done.result.failures));
    assert.deepEqual(
      sharedTors.holding().map((held) => held.split(':')[0]),
      ['packed-tor0', 'packed-tor1'],
    );
    assert.deepEqual(
      proxies.calls.filter((call) => !call.startsWith('list') && !call.startsWith('shared')),
      ['preflight own-0', 'create own-0'],
      'only the unpacked proxy reaches the proxies runtime',
    );
    const tor0 = await records.read('packed-tor0');
    assert.ok(tor0);
    assert.deepEqual(
      tor0.proxies.map((r) => [r.name, r.proxy.sessionGroup, r.proxy.listen, r.proxy.exits.length]),
      [
        ['packed-0', 0, '127.0.0.1:20600', 1],
        ['packed-1', 1, '127.0.0.1:20601', 1],
      ],
    );
    assert.equal(tor0.testingNetwork, false);
    assert.deepEqual(
      (await records.read('packed-tor1'))?.proxies.map((r) => r.name),
      ['packed-2'],
    );
    const listed = await deps.runtime.list();
    const idOf = (tor: string): string | undefined =>
      sharedTors
        .holding()
        .find((held) => held.startsWith(`${tor}:`))
        ?.slice(tor.length + 1);
    assert.deepEqual(
      // in no particular order: the shared tors start together, and the listing follows them
      listed.map((p) => [p.name, p.sharedTor ?? null, p.id]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['own-0', null, 'new-own-0'],
        ['packed-0', 'packed-tor0', idOf('packed-tor0')],
        ['packed-1', 'packed-tor0', idOf('packed-tor0')],
        ['packed-2', 'packed-tor1', idOf('packed-tor1')],
      ],
    );
  });

  test('a second pass changes nothing and leaves the records untouched', async () => {
    const { deps, sharedTors, records } = setUp();
    await reconcilePass(deps);
    const file = records.file('packed-tor0');
    const text = readFileSync(file, 'utf8');
    const calls = sharedTors.calls.filter((call) => call.startsWith('shared')).length;
    const again = await reconcilePass(deps);
    assert.deepEqual(
      again.plan.changes.filter((c) => c.action !== 'noop').map((c) => c.proxy),
      [],
    );
    assert.equal(sharedTors.calls.filter((call) => call.startsWith('shared')).length, calls, 'no shared tor call');
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('scaling up adds the proxy to its shared tor record; no shared tor restarts', async () => {
    const { deps, sharedTors, records, fleetFile } = setUp();
    await reconcilePass(deps);
    const held = sharedTors.holding();
    fleetFile(fleet(PACKED, 4));
    const scaled = await reconcilePass(deps);
    assert.deepEqual(
      scaled.plan.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.proxy}`),
      ['create packed-3'],
    );
    assert.deepEqual(sharedTors.holding(), held, 'the same shared tors');
    assert.deepEqual(
      (await records.read('packed-tor1'))?.proxies.map((r) => r.name),
      ['packed-2', 'packed-3'],
    );
  });

  test('a shared tor that does not start fails every proxy it serves, and only those', async () => {
    const { deps, sharedTors, records } = setUp();
    sharedTors.failOn('shared create packed-tor1', new Error('no such image'));
    const done = await reconcilePass(deps);
    assert.deepEqual(
      done.result.failures.map((f) => [f.change.proxy, f.error.message]),
      [['packed-2', 'its shared tor packed-tor1: no such image']],
    );
    assert.deepEqual(
      (await records.read('packed-tor0'))?.proxies.map((r) => r.name),
      ['packed-0', 'packed-1'],
    );
    sharedTors.heal('shared create packed-tor1');
    const retried = await reconcilePass(deps);
    assert.equal(retried.result.failures.length, 0);
    assert.deepEqual(
      (await records.read('packed-tor1'))?.proxies.map((r) => r.name),
      ['packed-2'],
    );
  });

  test('unpacking: the shared tors go (and their files) before each proxy gets a tor of its own', async () => {
    const { deps, proxies, sharedTors, fleetFile } = setUp();
    await reconcilePass(deps);
    fleetFile(fleet(''));
    proxies.calls.length = 0;
    const done = await reconcilePass(deps);
    assert.equal(done.result.failures.length, 0, JSON.stringify(done.result.failures));
    const shared = proxies.calls.filter((call) => call.startsWith('shared'));
    assert.deepEqual(shared.sort(), ['shared remove packed-tor0 forget', 'shared remove packed-tor1 forget']);
    const lastRemoval = Math.max(...shared.map((call) => proxies.calls.indexOf(call)));
    assert.ok(
      lastRemoval < proxies.calls.findIndex((call) => call.startsWith('create')),
      `shared tors removed before the first proxy is created: ${proxies.calls.join(', ')}`,
    );
    assert.deepEqual(proxies.calls.filter((call) => call.startsWith('create')).sort(), [
      'create packed-0',
      'create packed-1',
      'create packed-2',
    ]);
    assert.deepEqual(sharedTors.holding(), []);
    assert.deepEqual((await deps.runtime.list()).map((p) => [p.name, p.sharedTor ?? null]).sort(), [
      ['own-0', null],
      ['packed-0', null],
      ['packed-1', null],
      ['packed-2', null],
    ]);
  });

  test('packing a pool that ran a tor per proxy removes each old proxy (and its files) once its shared tor runs', async () => {
    const { deps, proxies, fleetFile } = setUp();
    fleetFile(fleet(''));
    await reconcilePass(deps);
    fleetFile(fleet(PACKED));
    proxies.calls.length = 0;
    const done = await reconcilePass(deps);
    assert.equal(done.result.failures.length, 0, JSON.stringify(done.result.failures));
    assert.deepEqual(proxies.calls.filter((call) => call.startsWith('remove')).sort(), [
      'remove packed-0 forget',
      'remove packed-1 forget',
      'remove packed-2 forget',
    ]);
    assert.deepEqual(proxies.holding(), ['own-0:new-own-0']);
  });
});
